// `check`, single and batched (SPEC section 3): parse, one contact fetch for every number, the policy engine, the answer written as text; committed checks write their decisions first.
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"

#include "dnc/contacts/keys.hpp"
#include "dnc/policy/engine.hpp"
#include "gateway/api/response_writer.hpp"

#include <boost/container/small_vector.hpp>
#include <spdlog/spdlog.h>

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

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

// The one fail-closed fetch of both check paths: the facts of `items` at `at` in one
// pipeline. Without a store, or when the fetch fails or answers short, every number's facts
// are unavailable (the policy then denies marketing with `store_unavailable`) and `failed` is
// set.
asio::awaitable<std::vector<dnc::model::number_facts>> fetch_or_unavailable(
    dnc::contacts::contact_store* st, std::span<const dnc::contacts::fetch_item> items,
    dnc::model::sys_time at, bool& failed) {
  // (No co_await inside ?: — GCC 12 miscompiles that.)
  boost::system::result<std::vector<dnc::model::number_facts>> fetched(
      boost::system::in_place_error, make_error_code(redis::errc::not_connected));
  if (st) fetched = co_await st->async_fetch(items, at);
  failed = !fetched || fetched->size() != items.size();
  if (!failed) co_return std::move(*fetched);
  std::vector<dnc::model::number_facts> none(items.size());
  for (auto& f : none) f.available = false;
  co_return none;
}

}  // namespace

bool ops::batchable(std::string_view, const api::op_def* def, const json::object& req) const {
  // Uncommitted checks evaluated now: a commit waits for the evidence log and is answered on
  // its own; an explicit `at` reads its own counter window.
  if (!def || !def->batchable || !absent(req, "at")) return false;
  const json::value* c = req.if_contains("commit");
  return !c || c->is_null() || (c->is_bool() && !c->get_bool());
}

asio::awaitable<void> ops::async_handle_batch(std::span<api::batch_entry> entries, std::string& text) {
  if (entries.empty()) co_return;
  const auto started = std::chrono::steady_clock::now();
  // The entries of a batch come from one connection: one worker.
  const api::request_context& first = entries.front().ctx;
  auto rt = svc_.runtime();
  const auto& engine = *rt->engine;
  // Every request of the batch is evaluated at the same instant (none names its own `at`).
  const dnc::model::sys_time now = now_us();
  std::vector<check_plan> plans(entries.size());
  std::vector<dnc::contacts::fetch_item> items;
  items.reserve(entries.size());
  std::size_t fetchable = 0;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    api::batch_entry& x = entries[e];
    if (!batchable(x.op, x.ctx.def, *x.req)) {
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
    bool failed = false;
    auto fetched = co_await fetch_or_unavailable(
        store(first), all ? std::span<const dnc::contacts::fetch_item>(items) : shared, now, failed);
    if (all) {
      facts = std::move(fetched);
    } else {
      for (std::size_t j = 0; j < fetched.size(); ++j) facts[at_index[j]] = std::move(fetched[j]);
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
      first.worker, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
      answered);
}

asio::awaitable<op_result> ops::check(const json::object& req, const api::request_context& ctx) {
  const auto started = std::chrono::steady_clock::now();
  auto rt = svc_.runtime();
  const auto& s = *rt->settings;
  const auto& engine = *rt->engine;
  check_plan p;
  std::vector<dnc::contacts::fetch_item> items;
  if (op_result parsed = parse_check(req, s, engine, now_us(), p, items); !parsed) co_return parsed;

  // One pipeline for the whole batch; a failure makes every number fail closed.
  check_tally t;
  std::vector<dnc::model::number_facts> facts;
  if (!items.empty()) {
    // A request parse_check refused to fetch (see there) fails closed like a failed fetch.
    bool failed = false;
    facts = co_await fetch_or_unavailable(p.fetchable ? store(ctx) : nullptr, items, p.at, failed);
    if (failed) ++t.store_failures;
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
      auto* st = store(ctx);
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
  counters_.observe_check_latency(ctx.worker, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return out;
}

}  // namespace stopgate::gateway
