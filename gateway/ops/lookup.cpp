// `lookup`: everything held about a number.
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"

#include "dnc/model/nanp_tables.hpp"

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

asio::awaitable<op_result> ops::lookup(const json::object& req, const api::request_context& ctx) {
  auto rt = svc_.runtime();
  const auto& s = *rt->settings;
  fields f(req);
  const auto to = read_to(f);
  if (!to) co_return fail(to.error());
  if (!f.ok()) co_return f.failure();
  auto* st = store(ctx);
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

}  // namespace stopgate::gateway
