// The ops' counters: `stats`, the /metrics families of decisions, ops, evidence and lists, and the per-worker check latency histograms.
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"

#include "config/values.hpp"
#include "gateway/http/metrics_json.hpp"
#include "gateway/send/send_op.hpp"

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

op_counters::op_counters() {
  // Each histogram is its own allocation, so two workers never write one cache line.
  for (auto& h : check_latency_) h = std::make_unique<http::histogram>(http::histogram::latency_seconds_buckets());
}

void op_counters::observe_check_latency(unsigned worker, double seconds, std::uint64_t times) noexcept {
  http::histogram& h = *check_latency_[worker % latency_shards];
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
      {"metrics", http::metrics_to_json(svc_.metrics ? svc_.metrics()
                                                     : std::vector<http::metric_family>{})},
  };
}

}  // namespace stopgate::gateway
