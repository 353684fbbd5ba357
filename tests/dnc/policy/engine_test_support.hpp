// Shared set-up of the policy engine tests: settings loaded from TOML, lists snapshots built in
// memory, instants written as local wall-clock times, requests and facts.
#pragma once

#include "config/load.hpp"
#include "dnc/policy/engine.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace stopgate::dnc::policy {

using namespace std::chrono_literals;

/// Every list kind, default policy (SPEC section 5 windows, AL/LA/MS/RI/UT Sunday bans, the
/// 2026 holidays, FL/OK/MD caps).
inline const std::string k_policy_toml = R"(
[carriers.sandbox]
type = "sandbox"
[senders.acme]
numbers = ["+14155552671"]
route = ["sandbox"]
[lists.internal]
kind = "internal"
[lists.litigator]
kind = "litigator"
[lists.federal]
[lists.canada]
[lists."state:TX"]
[lists.extra]
required = false
covers = "us"
[policy]
version = "test-1"
)";

inline config::settings_ptr load_settings(const std::string& text) {
  config::load_options o;
  o.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "STOPGATE_EVIDENCE_KEY") return std::string(40, 'k');
    return std::nullopt;
  };
  o.cwd = "/srv/stopgate";
  auto r = config::load_string(text, "policy_test.toml", o);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

inline policy_engine make_engine(const std::string& text) {
  auto e = policy_engine::make(load_settings(text));
  EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message());
  return std::move(*e);
}

inline model::phone_number num(const char* e164) {
  auto n = model::parse_e164(e164);
  EXPECT_TRUE(n.has_value()) << e164;
  return n ? *n : model::phone_number();
}

/// UTC instant from a wall-clock reading in `zone` (earlier pass in an overlap).
inline model::sys_time local(const char* zone, int y, unsigned m, unsigned d, int hh, int mm,
                             int ss = 0) {
  const date::local_seconds wall = date::local_days(date::year{y} / m / d) +
                                   std::chrono::hours(hh) + std::chrono::minutes(mm) +
                                   std::chrono::seconds(ss);
  return date::locate_zone(zone)->to_sys(wall, date::choose::earliest);
}
inline model::sys_time utc(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0) {
  return date::sys_days(date::year{y} / m / d) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss);
}
inline std::string day_of(model::sys_time t) {
  return date::format("%F", date::floor<date::days>(t));
}

/// One list's content in a snapshot.
struct list_spec {
  std::vector<model::phone_number> numbers;
  std::string snapshot;  // YYYY-MM-DD
  std::uint64_t generation = 7;
};

/// A snapshot holding exactly the given lists.
inline model::lists_snapshot snapshot_of(const std::map<std::string, list_spec>& specs) {
  model::lists_snapshot s;
  for (const auto& [name, spec] : specs) {
    model::list_builder b;
    for (model::phone_number n : spec.numbers) b.add(n);
    auto r = b.finish();
    model::list_meta m;
    m.name = name;
    m.generation = spec.generation;
    m.count = r.count;
    m.snapshot = spec.snapshot;
    model::stored_generation g;
    g.data = std::make_shared<model::list_generation>(std::move(m), std::move(r.npa),
                                                      std::move(r.sparse));
    s.lists.emplace(name, std::move(g));
  }
  return s;
}

/// Every configured list loaded, fresh on the day of `at`, with `listed` on the named lists.
inline model::lists_snapshot fresh_lists(model::sys_time at, model::phone_number n = {},
                                         std::set<std::string> listed_on = {}) {
  std::map<std::string, list_spec> specs;
  for (const char* name : {"internal", "litigator", "federal", "canada", "state:TX", "extra"}) {
    list_spec s;
    s.snapshot = day_of(at);
    if (listed_on.count(name)) s.numbers.push_back(n);
    specs[name] = s;
  }
  return snapshot_of(specs);
}

inline model::consent_fact consent(std::string id, model::consent_kind kind,
                                   model::sys_time captured, std::string sender = "acme",
                                   std::optional<model::sys_time> expires = std::nullopt) {
  model::consent_fact c;
  c.id = std::move(id);
  c.sender = std::move(sender);
  c.kind = kind;
  c.captured_at = captured;
  c.expires_at = expires;
  return c;
}

inline model::optout_fact optout(std::string sender, model::sys_time at) {
  model::optout_fact o;
  o.sender = std::move(sender);
  o.at = at;
  o.source = "sms:STOP";
  return o;
}

/// Facts with an express written consent of acme from 1 January 2025.
inline model::number_facts consented() {
  model::number_facts f;
  f.consents.push_back(
      consent("c-pewc", model::consent_kind::express_written, utc(2025, 1, 1, 0, 0)));
  return f;
}

inline check_request request(model::phone_number to, model::sys_time at) {
  check_request r;
  r.to = to;
  r.sender = "acme";
  r.at = at;
  return r;
}

using reasons = std::vector<std::string>;

}  // namespace stopgate::dnc::policy
