#include "gateway/ops.hpp"

#include "config/values.hpp"
#include "dnc/contacts/keys.hpp"
#include "dnc/model/nanp_tables.hpp"
#include "dnc/policy/engine.hpp"
#include "gateway/api/response_writer.hpp"
#include "gateway/app.hpp"
#include "gateway/http/metrics_json.hpp"
#include "gateway/rfc3339.hpp"
#include "gateway/send/idempotency.hpp"
#include "gateway/send/message_store.hpp"
#include "gateway/send/send_op.hpp"
#include "gateway/webhooks/inbound_store.hpp"
#include "gateway/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <memory>

namespace stopgate::gateway {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using api::api_errc;
using api::op_error;
using api::op_result;
using boost::system::error_code;

op_result fail(api_errc code, std::string message) {
  return op_result(boost::system::in_place_error, op_error{code, std::move(message)});
}

dnc::model::sys_time now_us() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// Field access that names the field in every error.
class fields {
 public:
  explicit fields(const json::object& o) : o_(o) {}

  const json::string* str(std::string_view key, bool required) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) {
      if (required) set(std::string(key) + ": required");
      return nullptr;
    }
    if (!v->is_string()) {
      set(std::string(key) + ": must be a string");
      return nullptr;
    }
    return &v->get_string();
  }
  const json::object* obj(std::string_view key, bool required) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) {
      if (required) set(std::string(key) + ": required");
      return nullptr;
    }
    if (!v->is_object()) {
      set(std::string(key) + ": must be an object");
      return nullptr;
    }
    return &v->get_object();
  }
  bool boolean(std::string_view key, bool dflt) {
    auto* v = o_.if_contains(key);
    if (!v || v->is_null()) return dflt;
    if (!v->is_bool()) {
      set(std::string(key) + ": must be true or false");
      return dflt;
    }
    return v->get_bool();
  }
  /// One of `allowed` (first is the default when absent).
  int choice(std::string_view key, std::initializer_list<std::string_view> allowed) {
    auto* s = str(key, false);
    if (!s) return 0;
    int i = 0;
    for (auto a : allowed) {
      if (*s == a) return i;
      ++i;
    }
    std::string msg = std::string(key) + ": must be one of";
    for (auto a : allowed) msg += " " + std::string(a);
    set(std::move(msg));
    return 0;
  }
  std::optional<dnc::model::sys_time> time(std::string_view key, bool required) {
    auto* s = str(key, required);
    if (!s) return std::nullopt;
    auto t = parse_rfc3339(*s);
    if (!t) set(std::string(key) + ": must be an RFC 3339 time such as 2026-11-29T14:03:00Z");
    return t;
  }
  void set(std::string m) {
    if (error_.empty()) error_ = std::move(m);
  }
  bool ok() const { return error_.empty(); }
  op_result failure() const { return fail(api_errc::bad_request, error_); }

 private:
  const json::object& o_;
  std::string error_;
};

// The sender a request names, or the only configured one.
const config::sender_settings* resolve_sender(const config::settings& s, fields& f, bool allow_all,
                                              std::string& name) {
  auto* v = f.str("sender", false);
  if (v) {
    name = std::string(*v);
    if (allow_all && name == "*") return nullptr;
    auto* snd = s.sender(name);
    if (!snd) f.set("sender: unknown sender '" + name + "'");
    return snd;
  }
  auto* sole = s.sole_sender();
  if (!sole) {
    f.set("sender: required (several senders are configured)");
    return nullptr;
  }
  name = sole->name;
  return sole;
}

std::optional<dnc::model::phone_number> parse_to(fields& f, std::string& raw, op_result& err) {
  auto* to = f.str("to", true);
  if (!to) return std::nullopt;
  raw = std::string(*to);
  auto n = dnc::model::parse_phone(raw);
  if (!n) {
    err = fail(api_errc::invalid_number, "to: " + n.error().message());
    return std::nullopt;
  }
  return *n;
}

// Appends many evidence records concurrently (one group-commit batch), each durable before
// this returns. Results in order; an empty id marks a failed append.
asio::awaitable<std::vector<std::string>> append_all(evidence::log& log, evidence::record_type type,
                                                     std::vector<json::object> records) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<std::string> ids(records.size());
  if (records.empty()) co_return ids;
  auto remaining = std::make_shared<std::size_t>(records.size());
  auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < records.size(); ++i) {
    asio::co_spawn(
        ex,
        [&log, type, rec = std::move(records[i]), &ids, i, remaining,
         done]() mutable -> asio::awaitable<void> {
          auto r = co_await log.async_append(type, std::move(rec));
          if (r) ids[i] = r->id;
          if (--*remaining == 0) done->cancel();
        },
        asio::detached);
  }
  error_code ec;
  while (*remaining > 0) co_await done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return ids;
}

const char* kind_name(dnc::model::consent_kind k) {
  switch (k) {
    case dnc::model::consent_kind::express_written:
      return "express_written";
    case dnc::model::consent_kind::express:
      return "express";
    case dnc::model::consent_kind::ebr_purchase:
      return "ebr_purchase";
    case dnc::model::consent_kind::ebr_inquiry:
      return "ebr_inquiry";
  }
  return "express";
}

// This thread's contact store; null until the store is ready (Redis unreachable at start).
dnc::contacts::contact_store* store() {
  auto* w = worker::current();
  return w ? w->contacts.get() : nullptr;
}

op_result store_down() { return fail(api_errc::store_unavailable, "the contact store is not reachable"); }

json::array reasons_json(const std::vector<std::string>& reasons) {
  json::array a;
  a.reserve(reasons.size());
  for (auto& r : reasons) a.emplace_back(r);
  return a;
}

}  // namespace

op_counters::op_counters() {
  // Each histogram is its own allocation, so two workers never write one cache line.
  for (auto& h : check_latency_) h = std::make_unique<http::histogram>(http::histogram::latency_seconds_buckets());
}

void op_counters::observe_check_latency(double seconds, std::uint64_t times) noexcept {
  const worker* w = worker::current();
  http::histogram& h = *check_latency_[w ? w->index % latency_shards : 0];
  for (std::uint64_t i = 0; i < times; ++i) h.observe(seconds);
}

http::histogram_snapshot op_counters::check_latency() const {
  http::histogram_snapshot merged = check_latency_[0]->snapshot();
  for (std::size_t k = 1; k < latency_shards; ++k) {
    const http::histogram_snapshot s = check_latency_[k]->snapshot();
    for (std::size_t i = 0; i < merged.cumulative.size() && i < s.cumulative.size(); ++i)
      merged.cumulative[i] += s.cumulative[i];
    merged.sum += s.sum;
    merged.count += s.count;
  }
  return merged;
}

std::size_t op_counters::reason_index(std::string_view code) noexcept {
  const auto base = code.substr(0, code.find(':'));
  for (std::size_t i = 0; i < reason_names.size(); ++i)
    if (reason_names[i] == base) return i;
  return reason_names.size();
}

ops::ops(app& a, evidence::log& log, dnc::lists::list_mirror& mirror)
    : app_(a),
      log_(log),
      mirror_(mirror),
      send_(std::make_unique<send::send_handler>(a, log, mirror)) {}

ops::~ops() = default;

std::vector<http::metric_family> ops::metric_families() const {
  using http::metric_family;
  using http::metric_type;
  std::vector<metric_family> out;
  metric_family d{"stopgate_decisions_total", "Check decisions by outcome.", metric_type::counter, {}};
  d.samples.push_back({"", {{"decision", "allow"}}, double(counters_.allow.load())});
  d.samples.push_back({"", {{"decision", "deny"}}, double(counters_.deny.load())});
  d.samples.push_back({"", {{"decision", "defer"}}, double(counters_.defer.load())});
  out.push_back(std::move(d));
  metric_family r{"stopgate_decision_reasons_total", "Reasons reported in check decisions.", metric_type::counter, {}};
  for (std::size_t i = 0; i < op_counters::reason_names.size(); ++i)
    r.samples.push_back({"", {{"reason", std::string(op_counters::reason_names[i])}}, double(counters_.reasons[i].load())});
  r.samples.push_back({"", {{"reason", "other"}}, double(counters_.reasons.back().load())});
  out.push_back(std::move(r));
  auto counter = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
    out.push_back(metric_family{name, help, metric_type::counter, {{"", {}, double(v.load())}}});
  };
  counter("stopgate_checks_total", "Numbers checked.", counters_.checks);
  counter("stopgate_committed_total", "Numbers checked with commit=true.", counters_.committed);
  counter("stopgate_consents_total", "Consents recorded.", counters_.consents);
  counter("stopgate_optouts_total", "Opt-outs recorded through the API.", counters_.optouts);
  counter("stopgate_optins_total", "Opt-ins recorded.", counters_.optins);
  counter("stopgate_store_failures_total", "Operations that failed closed because Redis did not answer.",
          counters_.store_failures);
  counter("stopgate_evidence_failures_total", "Operations refused because the evidence log failed.",
          counters_.evidence_failures);
  metric_family lat{"stopgate_check_duration_seconds", "Time from a check request to its answer.",
                    metric_type::histogram, {}};
  http::append_histogram_samples(lat, counters_.check_latency());
  out.push_back(std::move(lat));
  auto ec = log_.counters();
  out.push_back(metric_family{"stopgate_evidence_records_total", "Evidence records written.", metric_type::counter,
                              {{"", {}, double(ec.records)}}});
  out.push_back(metric_family{"stopgate_evidence_fsyncs_total", "Evidence log fdatasync calls.", metric_type::counter,
                              {{"", {}, double(ec.fsyncs)}}});
  out.push_back(metric_family{"stopgate_evidence_queue_depth", "Evidence records waiting to be made durable (log lag).",
                              metric_type::gauge, {{"", {}, double(ec.queue_depth)}}});
  out.push_back(metric_family{"stopgate_evidence_last_fsync_seconds", "Duration of the last evidence fdatasync.",
                              metric_type::gauge, {{"", {}, std::chrono::duration<double>(ec.last_fsync_latency).count()}}});
  {
    // The log counts each fdatasync in its slot; Prometheus buckets are cumulative.
    metric_family fsync{"stopgate_evidence_fsync_duration_seconds", "Duration of each evidence log fdatasync.",
                        metric_type::histogram, {}};
    http::histogram_snapshot h;
    h.bounds.assign(ec.fsync_bucket_bounds.begin(), ec.fsync_bucket_bounds.end());
    std::uint64_t running = 0;
    for (auto n : ec.fsync_buckets) h.cumulative.push_back(running += n);
    h.count = running;
    h.sum = std::chrono::duration<double>(ec.fsync_total).count();
    http::append_histogram_samples(fsync, h);
    out.push_back(std::move(fsync));
  }
  auto snap = mirror_.current();
  metric_family size{"stopgate_list_numbers", "Numbers in the current generation of each DNC list.", metric_type::gauge, {}};
  metric_family gen{"stopgate_list_generation", "Current generation of each DNC list.", metric_type::gauge, {}};
  metric_family age{"stopgate_list_loaded_age_seconds", "Seconds since each DNC list generation became current.",
                    metric_type::gauge, {}};
  metric_family loaded{"stopgate_list_loaded_timestamp_seconds",
                       "When each DNC list's current generation became current (Unix time).", metric_type::gauge, {}};
  metric_family snapshot{"stopgate_list_snapshot_timestamp_seconds",
                         "The date of each DNC list's current data (its snapshot date, 00:00 UTC, Unix time); "
                         "staleness is judged on it.",
                         metric_type::gauge, {}};
  const double now = double(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count());
  for (auto& [name, g] : snap->lists) {
    size.samples.push_back({"", {{"list", name}}, double(g.data->meta().count)});
    gen.samples.push_back({"", {{"list", name}}, double(g.data->meta().generation)});
    age.samples.push_back({"", {{"list", name}}, now - double(g.data->meta().loaded_at)});
    loaded.samples.push_back({"", {{"list", name}}, double(g.data->meta().loaded_at)});
    if (auto day = config::parse_date(g.data->meta().snapshot))
      snapshot.samples.push_back(
          {"", {{"list", name}}, double(date::sys_seconds(date::sys_days(*day)).time_since_epoch().count())});
  }
  out.push_back(std::move(size));
  out.push_back(std::move(gen));
  out.push_back(std::move(age));
  out.push_back(std::move(loaded));
  out.push_back(std::move(snapshot));
  for (auto& f : send_->metric_families()) out.push_back(std::move(f));
  return out;
}

std::optional<api::op_spec> ops::find_op(std::string_view op) const {
  return api::standard_op_spec(op);
}

asio::awaitable<op_result> ops::async_handle(std::string_view op, const json::object& req,
                                             const api::request_context& ctx) {
  const api::op_def* def = api::find_op_def(op);
  if (!def) co_return fail(api_errc::unknown_op, "unknown op '" + std::string(op) + "'");
  switch (def->id) {
    case api::op_id::check: co_return co_await check(req, ctx);
    case api::op_id::send: co_return co_await send_->async_send(req, ctx);
    case api::op_id::consent: co_return co_await consent(req, false);
    case api::op_id::optin: co_return co_await consent(req, true);
    case api::op_id::optout: co_return co_await optout(req);
    case api::op_id::lookup: co_return co_await lookup(req);
    case api::op_id::forget: co_return co_await forget(req);
    case api::op_id::stats: co_return stats();
    case api::op_id::ping:
    case api::op_id::auth: break;  // answered by the transport
  }
  co_return fail(api_errc::unknown_op, "op '" + std::string(op) + "' is answered by the transport");
}

namespace {

// One check request's fields, parsed. Views point into the request object (valid for the
// whole call); the numbers' fetch items are appended to a vector the caller owns, so that
// the checks of one batch share one fetch.
struct check_plan {
  // Inline room for one number: a single check allocates none of these.
  template <class T>
  using one_or_more = boost::container::small_vector<T, 1>;
  one_or_more<std::string_view> raw;
  bool batch = false;
  std::string sender_name;
  dnc::policy::channel ch = dnc::policy::channel::sms;
  config::purpose purpose = config::purpose::marketing;
  dnc::policy::voice_tech tech = dnc::policy::voice_tech::atds;
  std::string_view campaign;
  std::string_view ref;  // the caller's reference (a dialer's Call-ID), kept in decision records
  dnc::model::sys_time at{};
  bool commit = false;
  one_or_more<std::optional<dnc::model::phone_number>> numbers;
  std::vector<std::pair<std::size_t, std::string>> invalid;  // (index in raw, why)
  one_or_more<std::size_t> item_of;  // index in raw of each fetch item
  std::size_t first_item = 0;        // this plan's items in the shared vector
  bool fetchable = true;             // false: the store would refuse the items (bad campaign)
};

// Parses the fields and every number; bad ones are answered without touching the store.
// An error result is the request's answer; then nothing was added to `items`.
op_result parse_check(const json::object& req, const config::settings& s,
                      const dnc::policy::policy_engine& engine, dnc::model::sys_time now,
                      check_plan& p, std::vector<dnc::contacts::fetch_item>& items) {
  fields f(req);
  // Numbers: one string, or an array of up to api.max_batch strings.
  if (auto* v = req.if_contains("to"); v && v->is_string()) {
    p.raw.emplace_back(v->get_string());
  } else if (v && v->is_array()) {
    p.batch = true;
    const auto& a = v->get_array();
    if (a.size() > s.api.max_batch)
      return fail(api_errc::batch_too_large,
                  "to: " + std::to_string(a.size()) + " numbers; at most " + std::to_string(s.api.max_batch));
    p.raw.reserve(a.size());
    for (auto& e : a) {
      if (!e.is_string()) return fail(api_errc::bad_request, "to: every element must be a string");
      p.raw.emplace_back(e.get_string());
    }
  } else {
    return fail(api_errc::bad_request, v ? "to: must be a string or an array of strings" : "to: required");
  }
  resolve_sender(s, f, false, p.sender_name);
  p.ch = f.choice("channel", {"sms", "voice"}) == 0 ? dnc::policy::channel::sms
                                                    : dnc::policy::channel::voice;
  p.purpose = f.choice("purpose", {"marketing", "informational"}) == 0 ? config::purpose::marketing
                                                                        : config::purpose::informational;
  const int tech_i = f.choice("tech", {"atds", "manual", "prerecorded"});
  p.tech = tech_i == 0   ? dnc::policy::voice_tech::atds
           : tech_i == 1 ? dnc::policy::voice_tech::manual
                         : dnc::policy::voice_tech::prerecorded;
  if (auto* c = f.str("campaign", false)) p.campaign = *c;
  if (auto* r = f.str("ref", false); r && r->size() > 256) f.set("ref: at most 256 bytes");
  else if (r) p.ref = *r;
  p.at = f.time("at", false).value_or(now);
  p.commit = f.boolean("commit", false);
  if (!f.ok()) return f.failure();

  p.numbers.resize(p.raw.size());
  p.first_item = items.size();
  for (std::size_t i = 0; i < p.raw.size(); ++i) {
    auto n = dnc::model::parse_phone(p.raw[i]);
    if (!n) {
      p.invalid.emplace_back(i, n.error().message());
      continue;
    }
    p.numbers[i] = *n;
    dnc::contacts::fetch_item it;
    it.number = *n;
    it.campaign = p.campaign;
    if (auto* cap = engine.cap_for(*n, p.purpose); cap && !p.campaign.empty()) {
      it.window = std::chrono::hours(cap->window_hours);
      // The store refuses a whole fetch for one such item; in a shared fetch that must not
      // fail the other requests, so this request's numbers fail closed on their own.
      if (!dnc::contacts::contact_keys::valid_name(p.campaign) || it.window->count() <= 0)
        p.fetchable = false;
    }
    p.item_of.push_back(i);
    items.push_back(it);
  }
  return json::object{};
}

std::string_view invalid_message(const check_plan& p, std::size_t i) {
  for (auto& [k, m] : p.invalid)
    if (k == i) return m;
  return {};
}

// Counts of one check request or batch, added to the shared counters once.
struct check_tally {
  std::uint64_t checks = 0, allow = 0, deny = 0, defer = 0, store_failures = 0;
  std::array<std::uint64_t, op_counters::reason_names.size() + 1> reasons{};

  void reason(std::string_view code) noexcept { ++reasons[op_counters::reason_index(code)]; }
};

void add_tally(op_counters& c, const check_tally& t) noexcept {
  auto add = [](std::atomic<std::uint64_t>& a, std::uint64_t n) {
    if (n) a.fetch_add(n, std::memory_order_relaxed);
  };
  add(c.checks, t.checks);
  add(c.allow, t.allow);
  add(c.deny, t.deny);
  add(c.defer, t.defer);
  add(c.store_failures, t.store_failures);
  for (std::size_t i = 0; i < t.reasons.size(); ++i) add(c.reasons[i], t.reasons[i]);
}

using decisions_t = boost::container::small_vector<dnc::policy::policy_decision, 1>;

decisions_t decide(const check_plan& p, std::span<const dnc::model::number_facts> facts,
                   const dnc::policy::policy_engine& engine,
                   const dnc::model::lists_snapshot& lists) {
  decisions_t decisions(p.raw.size());
  for (std::size_t k = 0; k < p.item_of.size(); ++k) {
    const std::size_t i = p.item_of[k];
    dnc::policy::check_request r;
    r.to = *p.numbers[i];
    r.sender = p.sender_name;
    r.ch = p.ch;
    r.purpose = p.purpose;
    r.tech = p.tech;
    r.campaign = p.campaign;
    r.at = p.at;
    decisions[i] = engine.evaluate(r, facts[k], lists);
  }
  return decisions;
}

// Writes the answer's members as JSON text ("result":{...} or "results":[...], without the
// surrounding braces): the same bytes Boost.JSON would serialise for these fields, written
// straight into the response buffer. Counts each number into `t`.
void append_answer(std::string& out, const check_plan& p, const decisions_t& decisions,
                   const std::vector<std::string>& evidence_ids, check_tally& t) {
  using api::append_json_string;
  out += p.batch ? "\"results\":[" : "\"result\":";
  for (std::size_t i = 0; i < p.raw.size(); ++i) {
    if (i) out += ',';
    ++t.checks;
    out += "{\"to\":";
    if (!p.numbers[i]) {
      append_json_string(out, p.raw[i]);
      out += ",\"decision\":\"deny\",\"reasons\":[\"invalid_number\"],\"message\":";
      append_json_string(out, invalid_message(p, i));
      ++t.deny;
      t.reason("invalid_number");
    } else {
      const auto& d = decisions[i];
      // An E.164 number is '+' and digits: nothing to escape.
      out += '"';
      out += p.numbers[i]->e164();
      out += "\",\"decision\":\"";
      out += dnc::policy::to_string(d.outcome);
      out += "\",\"reasons\":[";
      for (std::size_t k = 0; k < d.reasons.size(); ++k) {
        if (k) out += ',';
        append_json_string(out, d.reasons[k]);
        t.reason(d.reasons[k]);
      }
      out += ']';
      if (d.retry_at) {
        out += ",\"retry_at\":";
        append_json_string(out, format_rfc3339(*d.retry_at));
      }
      ++(d.outcome == dnc::policy::decision::allow  ? t.allow
         : d.outcome == dnc::policy::decision::deny ? t.deny
                                                    : t.defer);
    }
    if (p.commit) {
      out += ",\"evidence_id\":";
      append_json_string(out, evidence_ids[i]);
    }
    out += '}';
  }
  if (p.batch) out += ']';
}

// The answer as an object allocated from `sp` (the request's arena), for the op_result path:
// parsed back from the text above, so both paths answer the same bytes.
op_result answer(const check_plan& p, const decisions_t& decisions, const std::vector<std::string>& evidence_ids,
                 json::storage_ptr sp, check_tally& t) {
  std::string text = "{";
  append_answer(text, p, decisions, evidence_ids, t);
  text += '}';
  error_code ec;
  json::value v = json::parse(text, ec, std::move(sp));
  if (ec || !v.is_object()) return fail(api_errc::internal, "internal error");
  return std::move(v.get_object());
}

bool absent(const json::object& req, std::string_view key) {
  const json::value* v = req.if_contains(key);
  return !v || v->is_null();
}

}  // namespace

bool ops::batchable(std::string_view op, const json::object& req) const {
  // Uncommitted checks evaluated now: a commit waits for the evidence log and is answered on
  // its own; an explicit `at` reads its own counter window.
  if (op != "check" || !absent(req, "at")) return false;
  const json::value* c = req.if_contains("commit");
  return !c || c->is_null() || (c->is_bool() && !c->get_bool());
}

asio::awaitable<void> ops::async_handle_batch(std::span<api::batch_entry> entries, std::string& text) {
  const auto started = std::chrono::steady_clock::now();
  auto rt = app_.current();
  const auto& engine = *rt->engine;
  // Every request of the batch is evaluated at the same instant (none names its own `at`).
  const dnc::model::sys_time now = now_us();
  std::vector<check_plan> plans(entries.size());
  std::vector<dnc::contacts::fetch_item> items;
  items.reserve(entries.size());
  std::size_t fetchable = 0;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    api::batch_entry& x = entries[e];
    if (!batchable(x.op, *x.req)) {
      // Not ours to batch (the transport only sends batchable ops): handle it alone.
      x.result.emplace(co_await async_handle(x.op, *x.req, x.ctx));
      continue;
    }
    op_result parsed = parse_check(*x.req, *x.ctx.settings, engine, now, plans[e], items);
    if (!parsed) {
      // (parse_check adds items only once every field is valid.)
      x.result.emplace(std::move(parsed));
      continue;
    }
    if (plans[e].fetchable) fetchable += plans[e].item_of.size();
  }

  // One fetch for every number of every request; a failure makes them all fail closed.
  check_tally t;
  std::vector<dnc::model::number_facts> facts(items.size());
  for (auto& f : facts) f.available = false;
  if (fetchable > 0) {
    // Refused items (see parse_check) stay out of the shared fetch.
    std::vector<dnc::contacts::fetch_item> shared;
    std::vector<std::size_t> at_index;
    const bool all = fetchable == items.size();
    if (!all) {
      shared.reserve(fetchable);
      for (std::size_t e = 0; e < entries.size(); ++e) {
        if (entries[e].result || !plans[e].fetchable) continue;
        for (std::size_t k = 0; k < plans[e].item_of.size(); ++k) {
          shared.push_back(items[plans[e].first_item + k]);
          at_index.push_back(plans[e].first_item + k);
        }
      }
    }
    auto* st = store();
    boost::system::result<std::vector<dnc::model::number_facts>> fetched(
        boost::system::in_place_error, make_error_code(redis::errc::not_connected));
    if (st)
      fetched = co_await st->async_fetch(
          all ? std::span<const dnc::contacts::fetch_item>(items) : shared, now);
    const std::size_t want = all ? items.size() : shared.size();
    if (fetched && fetched->size() == want) {
      if (all) {
        facts = std::move(*fetched);
      } else {
        for (std::size_t j = 0; j < want; ++j) facts[at_index[j]] = std::move((*fetched)[j]);
      }
    }
  }
  auto snapshot = mirror_.current();
  const std::vector<std::string> no_ids;
  std::uint64_t answered = 0;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    if (entries[e].result) continue;
    ++answered;
    const check_plan& p = plans[e];
    const std::span<const dnc::model::number_facts> mine(facts.data() + p.first_item,
                                                         p.item_of.size());
    bool failed = false;
    for (const auto& f : mine) failed = failed || !f.available;
    if (failed) ++t.store_failures;
    auto decisions = decide(p, mine, engine, *snapshot);
    const std::size_t begin = text.size();
    append_answer(text, p, decisions, no_ids, t);
    entries[e].written = api::written_fields{begin, text.size()};
  }
  add_tally(counters_, t);
  counters_.observe_check_latency(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), answered);
}

asio::awaitable<op_result> ops::check(const json::object& req, const api::request_context& ctx) {
  const auto started = std::chrono::steady_clock::now();
  auto rt = app_.current();
  const auto& s = *rt->settings;
  const auto& engine = *rt->engine;
  check_plan p;
  std::vector<dnc::contacts::fetch_item> items;
  if (op_result parsed = parse_check(req, s, engine, now_us(), p, items); !parsed) co_return parsed;

  // One pipeline for the whole batch; a failure makes every number fail closed.
  check_tally t;
  std::vector<dnc::model::number_facts> facts;
  if (!items.empty()) {
    auto* st = store();
    // (No co_await inside ?: — GCC 12 miscompiles that.)
    boost::system::result<std::vector<dnc::model::number_facts>> fetched(
        boost::system::in_place_error, make_error_code(redis::errc::not_connected));
    if (st && p.fetchable) fetched = co_await st->async_fetch(items, p.at);
    if (fetched && fetched->size() == items.size()) {
      facts = std::move(*fetched);
    } else {
      ++t.store_failures;
      facts.assign(items.size(), dnc::model::number_facts{});
      for (auto& x : facts) x.available = false;
    }
  }

  auto snapshot = mirror_.current();
  const auto decisions = decide(p, facts, engine, *snapshot);
  const auto& raw = p.raw;
  const auto& numbers = p.numbers;
  const auto& sender_name = p.sender_name;
  const auto ch = p.ch;
  const auto purpose = p.purpose;
  const auto tech = p.tech;
  const std::string_view campaign = p.campaign;
  const auto at = p.at;

  // Commit: the decision records are durable before the answer; allowed contacts count.
  std::vector<std::string> evidence_ids;
  if (p.commit) {
    std::vector<json::object> records;
    records.reserve(raw.size());
    std::vector<dnc::contacts::commit_item> commits;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      json::object rec;
      rec["to"] = numbers[i] ? numbers[i]->e164() : std::string(raw[i]);
      rec["sender"] = sender_name;
      rec["channel"] = ch == dnc::policy::channel::sms ? "sms" : "voice";
      rec["purpose"] = purpose == config::purpose::marketing ? "marketing" : "informational";
      if (ch == dnc::policy::channel::voice)
        rec["tech"] = tech == dnc::policy::voice_tech::atds     ? "atds"
                      : tech == dnc::policy::voice_tech::manual ? "manual"
                                                                : "prerecorded";
      rec["campaign"] = campaign;
      if (!p.ref.empty()) rec["ref"] = p.ref;
      rec["at"] = format_rfc3339(at);
      if (!ctx.key_name.empty()) rec["api_key"] = ctx.key_name;
      if (!numbers[i]) {
        rec["decision"] = "deny";
        rec["reasons"] = json::array{"invalid_number"};
      } else {
        const auto& d = decisions[i];
        rec["decision"] = std::string(dnc::policy::to_string(d.outcome));
        rec["reasons"] = reasons_json(d.reasons);
        if (d.retry_at) rec["retry_at"] = format_rfc3339(*d.retry_at);
        if (d.consent_id) rec["consent_id"] = *d.consent_id;
        json::array lists;
        for (auto& l : d.lists)
          lists.push_back(json::object{{"name", l.name}, {"generation", l.generation},
                                       {"snapshot", l.snapshot}, {"listed", l.listed}});
        rec["lists"] = std::move(lists);
        rec["policy_version"] = d.policy_version;
        if (d.outcome == dnc::policy::decision::allow && !campaign.empty()) {
          dnc::contacts::commit_item c;
          c.number = *numbers[i];
          c.campaign = campaign;
          c.at = at;
          auto* cap = engine.cap_for(*numbers[i], purpose);
          c.window = std::chrono::hours(cap ? cap->window_hours : 24);
          commits.push_back(c);
        }
      }
      records.push_back(std::move(rec));
    }
    evidence_ids = co_await append_all(log_, evidence::record_type::decision, std::move(records));
    for (auto& id : evidence_ids)
      if (id.empty()) {
        add_tally(counters_, t);
        ++counters_.evidence_failures;
        co_return fail(api_errc::internal, "the evidence log could not record the decision; nothing was committed");
      }
    if (!commits.empty()) {
      auto* st = store();
      error_code ec = make_error_code(redis::errc::not_connected);
      if (st) ec = co_await st->async_commit_many(commits);
      if (ec) {
        ++t.store_failures;
        add_tally(counters_, t);
        co_return fail(api_errc::store_unavailable, "the contact could not be counted: " + ec.message());
      }
    }
    counters_.committed += raw.size();
  }

  op_result out = answer(p, decisions, evidence_ids, ctx.storage, t);
  add_tally(counters_, t);
  counters_.observe_check_latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return out;
}

asio::awaitable<op_result> ops::consent(const json::object& req, bool optin) {
  auto rt = app_.current();
  const auto& s = *rt->settings;
  fields f(req);
  op_result err = json::object{};
  std::string raw;
  auto to = parse_to(f, raw, err);
  if (!err) co_return err;
  std::string sender;
  resolve_sender(s, f, false, sender);
  const int kind_i = f.choice("kind", {"express_written", "express", "ebr_purchase", "ebr_inquiry"});
  if (!req.contains("kind")) f.set("kind: required");
  const auto captured = f.time("captured_at", true);
  const auto expires = f.time("expires_at", false);
  const auto* src = f.obj("source", true);
  if (!f.ok()) co_return f.failure();
  const auto now = now_us();
  if (*captured > now + std::chrono::seconds(60)) co_return fail(api_errc::bad_request, "captured_at: in the future");
  if (expires && *expires <= *captured) co_return fail(api_errc::bad_request, "expires_at: must be after captured_at");
  fields sf(*src);
  const int method_i = sf.choice("method", {"web_form", "keyword", "verbal", "paper"});
  if (!src->contains("method")) sf.set("method: required");
  dnc::contacts::consent_record c;
  c.fact.sender = sender;
  c.fact.kind = dnc::model::consent_kind(kind_i);
  c.fact.captured_at = *captured;
  c.fact.expires_at = expires;
  static constexpr std::string_view methods[] = {"web_form", "keyword", "verbal", "paper"};
  c.source.method = std::string(methods[method_i]);
  auto copy = [&](std::string_view k, std::string& out) {
    if (auto* v = sf.str(k, false)) out = std::string(*v);
  };
  copy("url", c.source.url);
  copy("ip", c.source.ip);
  copy("user_agent", c.source.user_agent);
  copy("text", c.source.text);
  copy("proof", c.source.proof);
  if (!sf.ok()) co_return fail(api_errc::bad_request, "source." + std::string(sf.failure().error().message));
  if (c.fact.kind == dnc::model::consent_kind::express_written && c.source.text.empty())
    co_return fail(api_errc::bad_request, "source.text: required for express_written (the disclosure shown)");
  auto* st = store();
  if (!st) co_return store_down();

  // Evidence first: a consent is in effect only once it is provable.
  json::object rec{{"to", to->e164()},
                   {"sender", sender},
                   {"kind", kind_name(c.fact.kind)},
                   {"captured_at", format_rfc3339(*captured)},
                   {"method", c.source.method}};
  if (expires) rec["expires_at"] = format_rfc3339(*expires);
  if (!c.source.url.empty()) rec["url"] = c.source.url;
  if (!c.source.ip.empty()) rec["ip"] = c.source.ip;
  if (!c.source.user_agent.empty()) rec["user_agent"] = c.source.user_agent;
  if (!c.source.text.empty()) rec["text"] = c.source.text;
  if (!c.source.proof.empty()) rec["proof"] = c.source.proof;
  auto ev = co_await log_.async_append(optin ? evidence::record_type::optin : evidence::record_type::consent,
                                       std::move(rec));
  if (!ev) {
    ++counters_.evidence_failures;
    spdlog::error("{} of {} for {} refused: the evidence log could not record it: {}",
                  optin ? "opt-in" : "consent", to->masked(), sender, ev.error().message());
    co_return fail(api_errc::internal, "the evidence log could not record the consent: " + ev.error().message());
  }
  c.fact.evidence_id = ev->id;
  json::object out;
  if (optin) {
    auto r = co_await st->async_record_optin(*to, c);
    if (!r) {
      ++counters_.store_failures;
      spdlog::error("opt-in of {} for {} not stored (evidence {}): {}", to->masked(), sender, ev->id,
                    r.error().message());
      co_return fail(api_errc::store_unavailable, "the opt-in could not be stored: " + r.error().message());
    }
    out["consent_id"] = r->consent_id;
    out["optout_lifted"] = r->outcome == dnc::contacts::optin_outcome::lifted;
    if (r->outcome == dnc::contacts::optin_outcome::kept_newer)
      out["message"] = "an opt-out newer than this consent stays in force";
    ++counters_.optins;
  } else {
    auto r = co_await st->async_record_consent(*to, c);
    if (!r) {
      ++counters_.store_failures;
      spdlog::error("consent of {} for {} not stored (evidence {}): {}", to->masked(), sender, ev->id,
                    r.error().message());
      co_return fail(api_errc::store_unavailable, "the consent could not be stored: " + r.error().message());
    }
    out["consent_id"] = *r;
    ++counters_.consents;
  }
  out["evidence_id"] = ev->id;
  out["to"] = to->e164();
  co_return out;
}

asio::awaitable<op_result> ops::optout(const json::object& req) {
  auto rt = app_.current();
  const auto& s = *rt->settings;
  fields f(req);
  op_result err = json::object{};
  std::string raw;
  auto to = parse_to(f, raw, err);
  if (!err) co_return err;
  std::string sender;
  resolve_sender(s, f, true, sender);
  std::string channel = "api", note;
  if (auto* src = f.obj("source", false)) {
    fields sf(*src);
    if (auto* c = sf.str("channel", false)) channel = std::string(*c);
    if (auto* n = sf.str("note", false)) note = std::string(*n);
    if (!sf.ok()) co_return fail(api_errc::bad_request, "source." + std::string(sf.failure().error().message));
  }
  if (!f.ok()) co_return f.failure();
  auto* st = store();
  if (!st) co_return store_down();
  const auto at = now_us();
  json::object rec{{"to", to->e164()}, {"sender", sender}, {"channel", channel}, {"at", format_rfc3339(at)}};
  if (!note.empty()) rec["note"] = note;
  auto ev = co_await log_.async_append(evidence::record_type::optout, std::move(rec));
  if (!ev) {
    ++counters_.evidence_failures;
    // An opt-out the gateway could not take: the caller must retry, and an operator must know.
    spdlog::error("opt-out of {} for {} refused: the evidence log could not record it: {}", to->masked(),
                  sender, ev.error().message());
    co_return fail(api_errc::internal, "the evidence log could not record the opt-out: " + ev.error().message());
  }
  auto r = co_await st->async_record_optout(*to, sender, at, "api:" + channel, ev->id);
  if (!r) {
    // The evidence exists but Redis has not got it: the client must retry.
    ++counters_.store_failures;
    spdlog::error("opt-out of {} for {} not stored (evidence {}; the caller must retry): {}", to->masked(),
                  sender, ev->id, r.error().message());
    co_return fail(api_errc::store_unavailable, "the opt-out could not be stored: " + r.error().message());
  }
  ++counters_.optouts;
  co_return json::object{{"evidence_id", ev->id}, {"to", to->e164()}, {"sender", sender}};
}

asio::awaitable<op_result> ops::lookup(const json::object& req) {
  auto rt = app_.current();
  const auto& s = *rt->settings;
  fields f(req);
  op_result err = json::object{};
  std::string raw;
  auto to = parse_to(f, raw, err);
  if (!err) co_return err;
  if (!f.ok()) co_return f.failure();
  auto* st = store();
  if (!st) co_return store_down();
  auto rec = co_await st->async_lookup(*to);
  if (!rec) {
    ++counters_.store_failures;
    co_return fail(api_errc::store_unavailable, "the contact store did not answer: " + rec.error().message());
  }
  ++counters_.lookups;
  json::object out;
  out["to"] = to->e164();
  auto snapshot = mirror_.current();
  json::array lists;
  for (const auto& l : s.lists) {
    const auto* g = snapshot->find(l.name);
    json::object o{{"name", l.name}, {"reason", l.reason}};
    if (g) {
      o["listed"] = g->contains(*to);
      o["generation"] = g->meta().generation;
      o["snapshot"] = g->meta().snapshot;
    } else {
      o["listed"] = nullptr;
      o["loaded"] = false;
    }
    lists.push_back(std::move(o));
  }
  out["lists"] = std::move(lists);
  json::array optouts;
  for (auto& o : rec->optouts)
    optouts.push_back(json::object{{"sender", o.sender}, {"at", format_rfc3339(o.at)}, {"source", o.source},
                                   {"evidence_id", o.evidence_id}});
  out["optouts"] = std::move(optouts);
  json::array consents;
  for (auto& c : rec->consents) {
    json::object o{{"consent_id", c.fact.id},
                   {"sender", c.fact.sender},
                   {"kind", kind_name(c.fact.kind)},
                   {"captured_at", format_rfc3339(c.fact.captured_at)},
                   {"evidence_id", c.fact.evidence_id},
                   {"method", c.source.method}};
    if (c.fact.expires_at) o["expires_at"] = format_rfc3339(*c.fact.expires_at);
    consents.push_back(std::move(o));
  }
  out["consents"] = std::move(consents);
  json::array counters;
  for (auto& c : rec->counters) {
    json::array times;
    for (auto t : c.contacts) times.emplace_back(format_rfc3339(t));
    counters.push_back(json::object{{"campaign", c.campaign}, {"contacts", std::move(times)}});
  }
  out["counters"] = std::move(counters);
  if (to->is_nanp()) {
    auto region = dnc::model::region_of(*to);
    json::array zones;
    for (auto id : dnc::model::zones_of(*to))
      zones.emplace_back(std::string(dnc::model::zone_name(id)));
    out["time_zones"] = std::move(zones);
    out["region"] = std::string(region.code_view());
    out["country"] = std::string(region.iso_view());
  }
  json::array ev;
  for (auto& id : rec->evidence_ids) ev.emplace_back(id);
  out["evidence_ids"] = std::move(ev);
  if (rec->forgotten_at) out["forgotten_at"] = format_rfc3339(*rec->forgotten_at);
  co_return out;
}

namespace {

constexpr std::string_view forget_why_gateway =
    " Outside the contact store, the records of messages sent to the number are erased, the "
    "answers stored for the idempotency keys of those sends lose their free text (they keep "
    "their status, so a repeat still sends nothing), and replies queued to the number that "
    "have not gone out are cancelled, with its 24-hour confirmation markers.";

/// Every record about the number outside the contact store and the evidence log: message
/// records, idempotency answers, queued replies. Appends what it erased to `erased`.
asio::awaitable<error_code> forget_elsewhere(worker& w, const config::settings& s,
                                             dnc::model::phone_number n, json::array& erased) {
  send::message_store messages(*w.redis);
  auto m = co_await messages.async_forget(w.contacts->pseudonyms().tag(n));
  if (!m) co_return m.error();
  for (auto& id : m->message_ids) erased.emplace_back("message:" + id);
  send::idempotency idem(*w.redis);
  for (auto& [sender, key] : m->idempotency_keys) {
    auto scrubbed = co_await idem.async_scrub(sender, key);
    if (!scrubbed) co_return scrubbed.error();
    if (*scrubbed) erased.emplace_back("idempotency_answer_text:" + sender + ":" + key);
  }
  std::vector<std::string> senders;
  for (const auto& snd : s.senders) senders.push_back(snd.name);
  auto replies = co_await webhooks::async_forget_number(*w.redis, n.e164(), senders);
  if (!replies) co_return replies.error();
  for (auto& id : *replies) erased.emplace_back("queued_reply:" + id);
  co_return error_code{};
}

}  // namespace

asio::awaitable<op_result> ops::forget(const json::object& req) {
  auto rt = app_.current();
  fields f(req);
  op_result err = json::object{};
  std::string raw;
  auto to = parse_to(f, raw, err);
  if (!err) co_return err;
  if (!f.ok()) co_return f.failure();
  const auto at = now_us();
  auto* w = worker::current();
  auto* st = store();
  if (!st || !w->redis) co_return store_down();
  auto r = co_await st->async_forget(*to, at);
  if (!r) {
    ++counters_.store_failures;
    co_return fail(api_errc::store_unavailable, "the contact store did not answer: " + r.error().message());
  }
  json::array erased, kept;
  for (auto& e : r->erased) erased.emplace_back(e);
  for (auto& k : r->kept) kept.emplace_back(k);
  if (auto ec = co_await forget_elsewhere(*w, *rt->settings, *to, erased)) {
    // The contact store part is done; repeating the request finishes the rest.
    ++counters_.store_failures;
    co_return fail(api_errc::store_unavailable,
                   "message records or queued replies could not be erased (send forget again): " +
                       ec.message());
  }
  json::object rec{
      {"to", to->e164()}, {"at", format_rfc3339(at)}, {"erased", erased}, {"kept", kept}};
  auto ev = co_await log_.async_append(evidence::record_type::forget, std::move(rec));
  if (!ev) {
    ++counters_.evidence_failures;
    co_return fail(api_errc::internal, "erased, but the evidence log could not record it: " + ev.error().message());
  }
  ++counters_.forgets;
  json::object out{
      {"erased", std::move(erased)},
      {"kept", std::move(kept)},
      {"why", r->why + std::string(forget_why_gateway)},
      {"evidence_kept",
       "evidence records are append-only and hash-chained; they are kept for the retention period "
       "(evidence.retention_days) as proof of consent and opt-out handling"},
      {"evidence_id", ev->id}};
  co_return out;
}

op_result ops::stats() const {
  auto c = log_.counters();
  auto snap = mirror_.current();
  json::object lists;
  for (auto& [name, g] : snap->lists)
    lists[name] = json::object{{"generation", g.data->meta().generation},
                               {"count", g.data->meta().count},
                               {"snapshot", g.data->meta().snapshot}};
  return json::object{
      {"checks", counters_.checks.load()},
      {"decisions", json::object{{"allow", counters_.allow.load()},
                                 {"deny", counters_.deny.load()},
                                 {"defer", counters_.defer.load()}}},
      {"committed", counters_.committed.load()},
      {"consents", counters_.consents.load()},
      {"optouts", counters_.optouts.load()},
      {"optins", counters_.optins.load()},
      {"lookups", counters_.lookups.load()},
      {"forgets", counters_.forgets.load()},
      {"store_failures", counters_.store_failures.load()},
      {"evidence_failures", counters_.evidence_failures.load()},
      {"evidence", json::object{{"records", c.records},
                                {"fsyncs", c.fsyncs},
                                {"durable_seq", c.durable_seq},
                                {"queue_depth", c.queue_depth}}},
      {"lists", std::move(lists)},
      {"list_refreshes", mirror_.refreshes()},
      // Everything GET /metrics serves, by family (socket API, HTTP, carriers, webhooks...).
      {"metrics", http::metrics_to_json(app_.all_metric_families())},
  };
}

}  // namespace stopgate::gateway
