// The policy engine: preparation of the tables and the rules of SPEC section 5 that do not
// depend on the calendar (opt-outs, lists, consent, caps). Calendar rules: policy_windows.cpp.
#include "dnc/policy/engine.hpp"
#include "dnc/model/time_zones.hpp"

#include <algorithm>
#include <exception>

namespace stopgate::dnc::policy {
namespace {

using std::chrono::hours;

class policy_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.policy"; }
  std::string message(int ev) const override {
    switch (static_cast<policy_errc>(ev)) {
      case policy_errc::tzdata_unavailable:
        return "the system time-zone database or a zone of the NANP tables is missing";
      case policy_errc::unknown_fallback_zone:
        return "policy.unknown_zone_fallback names a zone the time-zone database lacks";
      case policy_errc::too_many_fallback_zones:
        return "policy.unknown_zone_fallback lists more than 8 zones";
      case policy_errc::no_settings:
        return "no settings";
    }
    return "unknown policy error";
  }
};

int kind_rank(config::list_kind k) {
  switch (k) {
    case config::list_kind::internal:
      return 0;
    case config::list_kind::litigator:
      return 1;
    case config::list_kind::registry:
      return 2;
  }
  return 3;
}

bool covers(const config::list_coverage& c, const model::nanp_region& r) {
  using scope = config::list_coverage::scope;
  switch (c.what) {
    case scope::all:
      return true;
    case scope::us:
      return r.country == model::nanp_country::us;
    case scope::canada:
      return r.country == model::nanp_country::ca;
    case scope::region:
      return r.has_code() && r.code_view() == c.region;
  }
  return false;
}

config::consent_level required_level(const config::purpose_policy& pp, const check_request& r) {
  if (r.ch == channel::sms) return pp.sms;
  switch (r.tech) {
    case voice_tech::manual:
      return pp.voice_manual;
    case voice_tech::atds:
      return pp.voice_atds;
    case voice_tech::prerecorded:
      return pp.voice_prerecorded;
  }
  return config::consent_level::express_written;
}

/// The consents of one request's sender that are in force at `at`: captured no later than
/// `at`, unexpired, and newer than the sender's (or "*") last opt-out.
class consent_view {
 public:
  consent_view(const model::number_facts& f, const check_request& r,
               std::optional<model::sys_time> last_optout)
      : f_(f), r_(r), last_optout_(last_optout) {}

  bool in_force(const model::consent_fact& c) const {
    return c.sender == r_.sender && c.captured_at <= r_.at &&
           (!c.expires_at || *c.expires_at > r_.at) &&
           (!last_optout_ || c.captured_at > *last_optout_);
  }

  /// The newest consent in force of one of the accepted kinds captured within `max_age`
  /// (none: any age).
  const model::consent_fact* newest(std::initializer_list<model::consent_kind> kinds,
                                    std::optional<hours> max_age = std::nullopt) const {
    const model::consent_fact* best = nullptr;
    for (const model::consent_fact& c : f_.consents) {
      if (std::find(kinds.begin(), kinds.end(), c.kind) == kinds.end() || !in_force(c)) continue;
      if (max_age && r_.at - c.captured_at > *max_age) continue;
      if (!best || c.captured_at > best->captured_at) best = &c;
    }
    return best;
  }

 private:
  const model::number_facts& f_;
  const check_request& r_;
  std::optional<model::sys_time> last_optout_;
};

/// The consent that exempts a listed number from a registry, or nullptr: express written
/// consent (if the list allows it), else the newest EBR inside the list's EBR windows.
const model::consent_fact* registry_exemption(const config::list_settings& ls,
                                              const consent_view& cv) {
  if (ls.exempt_with_consent)
    if (const model::consent_fact* c = cv.newest({model::consent_kind::express_written})) return c;
  const model::consent_fact* purchase =
      ls.ebr_purchase_days
          ? cv.newest({model::consent_kind::ebr_purchase}, hours(24) * ls.ebr_purchase_days)
          : nullptr;
  const model::consent_fact* inquiry =
      ls.ebr_inquiry_days
          ? cv.newest({model::consent_kind::ebr_inquiry}, hours(24) * ls.ebr_inquiry_days)
          : nullptr;
  if (purchase && inquiry)
    return purchase->captured_at >= inquiry->captured_at ? purchase : inquiry;
  return purchase ? purchase : inquiry;
}

/// The instant at which a reached cap frees a slot, or nullopt when the cap is not reached.
/// `contacts` are oldest first (model::number_facts contract); a contact counts while it is less
/// than `window` before `at`.
std::optional<model::sys_time> cap_clears(const config::frequency_cap& cap,
                                          const std::vector<model::sys_time>& contacts,
                                          model::sys_time at) {
  const model::sys_time since = at - hours(cap.window_hours);
  const auto first = std::upper_bound(contacts.begin(), contacts.end(), since);
  const auto last = std::upper_bound(first, contacts.end(), at);
  const auto count = std::size_t(last - first);
  if (count < cap.max) return std::nullopt;
  // count - max + 1 of them must leave the window before one more contact fits.
  return first[std::ptrdiff_t(count - cap.max)] + hours(cap.window_hours);
}

}  // namespace

bool list_too_old(const model::list_meta& m, std::uint32_t max_age_days, model::sys_time at) {
  if (max_age_days == 0) return false;
  const auto snap = config::parse_date(m.snapshot);
  if (!snap) return true;
  const auto age = date::floor<date::days>(at) - date::sys_days(*snap);
  return age.count() > std::int64_t(max_age_days);
}

const boost::system::error_category& policy_category() noexcept {
  static const policy_category_impl cat;
  return cat;
}

std::string_view to_string(decision d) noexcept {
  switch (d) {
    case decision::allow:
      return "allow";
    case decision::deny:
      return "deny";
    case decision::defer:
      return "defer";
  }
  return "deny";
}

bool policy_decision::has(std::string_view reason) const noexcept {
  return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
}

boost::system::result<policy_engine> policy_engine::make(
    std::shared_ptr<const config::settings> s) {
  if (!s) return make_error_code(policy_errc::no_settings);
  auto rules = model::zone_rules::load();
  if (!rules) return make_error_code(policy_errc::tzdata_unavailable);
  policy_engine e;
  e.settings_ = std::move(s);
  const config::policy_settings& p = e.settings_->policy;
  for (std::size_t id = 0; id < model::zone_count() && id < e.zone_by_id_.size(); ++id)
    e.zone_by_id_[id] = rules->zone(model::zone_id(id));

  for (const std::string& name : p.unknown_zone_fallback) {
    if (e.fallback_.count == max_zones)
      return make_error_code(policy_errc::too_many_fallback_zones);
    try {
      const date::time_zone* z = date::locate_zone(name);
      (void)z->get_info(std::chrono::sys_seconds{});  // loads its rules now, not per request
      e.fallback_.tz[e.fallback_.count++] = z;
    } catch (const std::exception&) {
      return make_error_code(policy_errc::unknown_fallback_zone);
    }
  }

  for (const auto& [code, ww] : p.regions)
    if (auto i = region_index(code)) e.regions_[*i].window = &ww;
  for (const std::string& code : p.sunday_ban)
    if (auto i = region_index(code)) e.regions_[*i].sunday_ban = true;
  for (std::size_t c = 0; c < p.frequency_caps.size(); ++c)
    for (const std::string& code : p.frequency_caps[c].states)
      if (auto i = region_index(code); i && e.regions_[*i].cap < 0)
        e.regions_[*i].cap = std::int16_t(c);
  for (const auto& [ymd, codes] : p.holidays) {
    const std::int64_t day = date::local_days(ymd).time_since_epoch().count();
    for (const std::string& code : codes)
      if (auto i = region_index(code)) e.holidays_.push_back(day * 65536 + std::int64_t(*i));
  }
  std::sort(e.holidays_.begin(), e.holidays_.end());

  for (const config::list_settings& ls : e.settings_->lists) e.lists_.push_back(&ls);
  // Settings keep lists sorted by name; evaluation goes internal, litigator, registries.
  std::stable_sort(e.lists_.begin(), e.lists_.end(),
                   [](auto* a, auto* b) { return kind_rank(a->kind) < kind_rank(b->kind); });
  return e;
}

const config::frequency_cap* policy_engine::cap_for(model::phone_number n,
                                                    config::purpose p) const noexcept {
  return cap_in(model::region_of(n), settings_->policy.for_purpose(p));
}

const config::frequency_cap* policy_engine::cap_in(
    const model::nanp_region& region, const config::purpose_policy& pp) const noexcept {
  if (!pp.apply_frequency_caps) return nullptr;
  const region_rules* rr = rules_for(region.code_view());
  if (!rr || rr->cap < 0) return nullptr;
  return &settings_->policy.frequency_caps[std::size_t(rr->cap)];
}

policy_decision policy_engine::evaluate(const check_request& r, const model::number_facts& f,
                                        const model::lists_snapshot& lists) const {
  policy_decision out;
  out.policy_version = settings_->policy.version;
  const config::purpose_policy& pp = settings_->policy.for_purpose(r.purpose);
  const model::nanp_region region = model::region_of(r.to);
  // With failure mode allow, a silent store means: skip every rule that needs its facts.
  const bool have_facts = f.available;
  bool deny = false;
  bool defer = false;
  auto add = [&out](std::string_view code) { out.reasons.emplace_back(code); };

  if (!have_facts && pp.on_store_unavailable == config::failure_mode::deny) {
    add("store_unavailable");
    deny = true;
  }

  // Opt-outs: any of this sender or of all senders, whatever the purpose.
  std::optional<model::sys_time> last_optout;
  if (have_facts)
    for (const model::optout_fact& o : f.optouts)
      if (o.sender == r.sender || o.sender == "*")
        if (!last_optout || o.at > *last_optout) last_optout = o.at;
  if (last_optout) {
    add("optout");
    deny = true;
  }
  const consent_view consents(f, r, last_optout);

  // Lists: internal, litigator, then registries.
  bool stale = false;
  const model::consent_fact* exemption = nullptr;
  for (const config::list_settings* ls : lists_) {
    if (!ls->blocks(r.purpose) || !covers(ls->covers, region)) continue;
    list_consulted& rec = out.lists.emplace_back();
    rec.name = ls->name;
    const model::list_generation* g = lists.find(ls->name);
    bool is_stale = g == nullptr;
    if (g) {
      rec.generation = g->meta().generation;
      rec.snapshot = g->meta().snapshot;
      rec.listed = g->contains(r.to);
      is_stale = list_too_old(g->meta(), ls->max_age_days, r.at);
    }
    if (is_stale && ls->required) stale = true;
    if (!rec.listed) continue;
    // Exemptions need the store's consents; internal and litigator lists have none.
    const model::consent_fact* ex = have_facts && ls->kind == config::list_kind::registry
                                        ? registry_exemption(*ls, consents)
                                        : nullptr;
    if (ex) {
      if (!exemption) exemption = ex;
      continue;
    }
    add(ls->reason);
    deny = true;
  }
  if (stale) {
    add("dnc_data_stale");
    deny = true;
  }

  // Consent of the level the purpose requires for this channel / technology.
  const model::consent_fact* relied = nullptr;
  if (have_facts && pp.require_consent) {
    const config::consent_level level = required_level(pp, r);
    if (level != config::consent_level::none) {
      relied = level == config::consent_level::express_written
                   ? consents.newest({model::consent_kind::express_written})
                   : consents.newest(
                         {model::consent_kind::express_written, model::consent_kind::express});
      if (!relied) {
        add("no_consent");
        deny = true;
      }
    }
  }
  if (relied)
    out.consent_id = relied->id;
  else if (exemption)
    out.consent_id = exemption->id;

  // Calendar: restricted days and calling windows in every candidate zone.
  const local_rules lr = local_rules_for(r.to, region, pp);
  bool quiet = false;
  bool restricted = false;
  judge_calendar(lr, r.at, quiet, restricted);
  if (restricted) add("restricted_day");
  if (quiet) add("quiet_hours");
  defer = quiet || restricted;

  // Frequency cap over the rolling window.
  std::optional<model::sys_time> cap_clear;
  if (have_facts)
    if (const config::frequency_cap* cap = cap_in(region, pp)) {
      if (std::is_sorted(f.recent_contacts.begin(), f.recent_contacts.end())) {
        cap_clear = cap_clears(*cap, f.recent_contacts, r.at);
      } else {
        // The store promises oldest first; sort a copy rather than miscount if it did not.
        std::vector<model::sys_time> sorted(f.recent_contacts);
        std::sort(sorted.begin(), sorted.end());
        cap_clear = cap_clears(*cap, sorted, r.at);
      }
      if (cap_clear) {
        add("frequency_cap");
        defer = true;
      }
    }

  if (deny) {
    out.outcome = decision::deny;
  } else if (defer) {
    out.outcome = decision::defer;
    const model::sys_time from = cap_clear ? std::max(r.at, *cap_clear) : r.at;
    // The horizon counts from when the cap clears: a long cap window is not "never".
    out.retry_at = first_open(lr, from, from + retry_horizon);
  }
  return out;
}

}  // namespace stopgate::dnc::policy
