// Opt-outs, lists and their exemptions, consent, data staleness, frequency caps, store
// failure modes and the combination of reasons (SPEC section 5).
#include "engine_test_support.hpp"

#include <chrono>
#include <cstdio>

namespace stopgate::dnc::policy {
namespace {

const policy_engine& engine() {
  static const policy_engine e = make_engine(k_policy_toml);
  return e;
}

constexpr const char* NY = "America/New_York";
const model::sys_time k_noon = local(NY, 2026, 3, 10, 12, 0);  // Tuesday, inside every window
const model::phone_number k_ny = num("+12125552671");
const model::phone_number k_tx = num("+12145552671");
const model::phone_number k_fl = num("+13055552671");
const model::phone_number k_on = num("+14165552671");

/// A voice call dialled by hand: no consent is required, so registry exemptions show alone.
check_request manual_call(model::phone_number to, model::sys_time at = k_noon) {
  auto r = request(to, at);
  r.ch = channel::voice;
  r.tech = voice_tech::manual;
  return r;
}

policy_decision eval(const check_request& r, const model::number_facts& f,
                     std::set<std::string> listed_on = {}) {
  return engine().evaluate(r, f, fresh_lists(r.at, r.to, std::move(listed_on)));
}

// ---- opt-outs ------------------------------------------------------------------------------

TEST(PolicyOptout, SenderOptoutDeniesEveryPurpose) {
  auto f = consented();
  f.optouts.push_back(optout("acme", utc(2026, 2, 1, 0, 0)));
  auto r = request(k_ny, k_noon);
  auto d = eval(r, f);
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, (reasons{"optout", "no_consent"}));  // the consent predates the opt-out
  r.purpose = config::purpose::informational;
  d = eval(r, f);
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, reasons{"optout"});
}

TEST(PolicyOptout, GlobalOptoutDeniesEverySender) {
  auto f = consented();
  f.optouts.push_back(optout("*", utc(2026, 2, 1, 0, 0)));
  const auto d = eval(request(k_ny, k_noon), f);
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_TRUE(d.has("optout"));
}

TEST(PolicyOptout, AnotherSendersOptoutDoesNotCount) {
  auto f = consented();
  f.optouts.push_back(optout("other", utc(2026, 2, 1, 0, 0)));
  const auto d = eval(request(k_ny, k_noon), f);
  EXPECT_EQ(d.outcome, decision::allow);
  EXPECT_TRUE(d.reasons.empty());
  EXPECT_EQ(d.consent_id, "c-pewc");
}

// ---- consent -------------------------------------------------------------------------------

TEST(PolicyConsent, MarketingSmsWithoutConsentIsDenied) {
  const auto d = eval(request(k_ny, k_noon), model::number_facts{});
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, reasons{"no_consent"});
  EXPECT_FALSE(d.consent_id);
}

TEST(PolicyConsent, ExpressIsNotEnoughForMarketingSms) {
  model::number_facts f;
  f.consents.push_back(consent("c-pec", model::consent_kind::express, utc(2025, 6, 1, 0, 0)));
  EXPECT_EQ(eval(request(k_ny, k_noon), f).reasons, reasons{"no_consent"});
}

TEST(PolicyConsent, ExpressSatisfiesInformationalWhenRequired) {
  auto e = make_engine(k_policy_toml + "[policy.informational]\nrequire_consent = true\n");
  auto r = request(k_ny, k_noon);
  r.purpose = config::purpose::informational;
  model::number_facts f;
  EXPECT_EQ(e.evaluate(r, f, fresh_lists(k_noon)).reasons, reasons{"no_consent"});
  f.consents.push_back(consent("c-pec", model::consent_kind::express, utc(2025, 6, 1, 0, 0)));
  auto d = e.evaluate(r, f, fresh_lists(k_noon));
  EXPECT_EQ(d.outcome, decision::allow);
  EXPECT_EQ(d.consent_id, "c-pec");
}

TEST(PolicyConsent, InformationalNeedsNoConsentByDefault) {
  auto r = request(k_ny, k_noon);
  r.purpose = config::purpose::informational;
  EXPECT_EQ(eval(r, model::number_facts{}).outcome, decision::allow);
}

TEST(PolicyConsent, ExpiresAtTheInstantGiven) {
  model::number_facts f;
  f.consents.push_back(consent("c-exp", model::consent_kind::express_written, utc(2025, 1, 1, 0, 0),
                               "acme", k_noon));
  EXPECT_EQ(eval(request(k_ny, k_noon), f).reasons, reasons{"no_consent"});
  EXPECT_EQ(eval(request(k_ny, k_noon - 1s), f).outcome, decision::allow);
}

TEST(PolicyConsent, CapturedAfterTheInstantDoesNotCount) {
  model::number_facts f;
  f.consents.push_back(consent("c-late", model::consent_kind::express_written, k_noon + 1s));
  EXPECT_EQ(eval(request(k_ny, k_noon), f).reasons, reasons{"no_consent"});
}

TEST(PolicyConsent, AnotherSendersConsentDoesNotCount) {
  model::number_facts f;
  f.consents.push_back(
      consent("c-other", model::consent_kind::express_written, utc(2025, 1, 1, 0, 0), "other"));
  EXPECT_EQ(eval(request(k_ny, k_noon), f).reasons, reasons{"no_consent"});
}

TEST(PolicyConsent, EbrDoesNotSatisfyTheConsentRule) {
  model::number_facts f;
  f.consents.push_back(consent("c-ebr", model::consent_kind::ebr_purchase, utc(2026, 3, 1, 0, 0)));
  EXPECT_EQ(eval(request(k_ny, k_noon), f).reasons, reasons{"no_consent"});
}

TEST(PolicyConsent, VoiceTechnologiesAndLevels) {
  auto r = manual_call(k_ny);
  EXPECT_EQ(eval(r, model::number_facts{}).outcome, decision::allow);
  r.tech = voice_tech::atds;
  EXPECT_EQ(eval(r, model::number_facts{}).reasons, reasons{"no_consent"});
  r.tech = voice_tech::prerecorded;
  model::number_facts f;
  f.consents.push_back(consent("c-pec", model::consent_kind::express, utc(2025, 6, 1, 0, 0)));
  EXPECT_EQ(eval(r, f).reasons, reasons{"no_consent"});
  EXPECT_EQ(eval(r, consented()).outcome, decision::allow);
}

TEST(PolicyConsent, NewestConsentIsReliedOn) {
  auto f = consented();
  f.consents.push_back(
      consent("c-new", model::consent_kind::express_written, utc(2026, 1, 1, 0, 0)));
  EXPECT_EQ(eval(request(k_ny, k_noon), f).consent_id, "c-new");
}

// ---- lists and exemptions ------------------------------------------------------------------

TEST(PolicyLists, InternalAndLitigatorAreNotExemptByConsent) {
  auto d = eval(request(k_ny, k_noon), consented(), {"internal", "litigator"});
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, (reasons{"internal_dnc", "litigator"}));
}

TEST(PolicyLists, FederalListingExemptByExpressWrittenConsent) {
  const auto d = eval(request(k_ny, k_noon), consented(), {"federal"});
  EXPECT_EQ(d.outcome, decision::allow);
  EXPECT_EQ(d.consent_id, "c-pewc");
}

TEST(PolicyLists, ExpressConsentDoesNotExemptRegistries) {
  model::number_facts f;
  f.consents.push_back(consent("c-pec", model::consent_kind::express, utc(2025, 6, 1, 0, 0)));
  EXPECT_EQ(eval(manual_call(k_ny), f, {"federal"}).reasons, reasons{"federal_dnc"});
}

TEST(PolicyLists, StateListUsesItsReasonCode) {
  const auto d = eval(manual_call(k_tx), model::number_facts{}, {"federal", "state:TX"});
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, (reasons{"federal_dnc", "state_dnc:TX"}));
}

TEST(PolicyLists, StateListCoversOnlyItsState) {
  const auto d = eval(manual_call(k_ny), model::number_facts{}, {"state:TX"});
  EXPECT_EQ(d.outcome, decision::allow);
  for (const auto& l : d.lists) EXPECT_NE(l.name, "state:TX");
}

TEST(PolicyLists, RecordsEveryListConsulted) {
  const auto d = eval(manual_call(k_tx), model::number_facts{}, {"state:TX"});
  std::vector<std::string> names;
  for (const auto& l : d.lists) names.push_back(l.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"internal", "litigator", "extra", "federal", "state:TX"}));
  EXPECT_EQ(d.lists.back(), (list_consulted{"state:TX", 7, "2026-03-10", true}));
  EXPECT_FALSE(d.lists[0].listed);
  EXPECT_EQ(d.policy_version, "test-1");
}

TEST(PolicyLists, InformationalSkipsMarketingLists) {
  auto r = request(k_ny, k_noon);
  r.purpose = config::purpose::informational;
  const auto d = eval(r, model::number_facts{}, {"federal", "internal", "litigator"});
  EXPECT_EQ(d.outcome, decision::allow);
  EXPECT_TRUE(d.lists.empty());
}

struct ebr_case {
  const char* name;
  model::phone_number to;
  const char* list;
  model::consent_kind kind;
  int days_ago;
  bool exempt;
};
std::ostream& operator<<(std::ostream& os, const ebr_case& c) {
  return os << c.name;
}

const ebr_case k_ebr[] = {
    {"purchase_539", k_ny, "federal", model::consent_kind::ebr_purchase, 539, true},
    {"purchase_540", k_ny, "federal", model::consent_kind::ebr_purchase, 540, true},
    {"purchase_541", k_ny, "federal", model::consent_kind::ebr_purchase, 541, false},
    {"inquiry_89", k_ny, "federal", model::consent_kind::ebr_inquiry, 89, true},
    {"inquiry_91", k_ny, "federal", model::consent_kind::ebr_inquiry, 91, false},
    {"state_tx_purchase_539", k_tx, "state:TX", model::consent_kind::ebr_purchase, 539, true},
    {"canada_inquiry_179", k_on, "canada", model::consent_kind::ebr_inquiry, 179, true},
    {"canada_inquiry_181", k_on, "canada", model::consent_kind::ebr_inquiry, 181, false},
    {"canada_purchase_541", k_on, "canada", model::consent_kind::ebr_purchase, 541, false},
};

class PolicyEbr : public ::testing::TestWithParam<ebr_case> {};

TEST_P(PolicyEbr, ExemptsInsideItsWindowOnly) {
  const ebr_case& c = GetParam();
  model::number_facts f;
  f.consents.push_back(consent("c-ebr", c.kind, k_noon - std::chrono::hours(24) * c.days_ago));
  const auto d = eval(manual_call(c.to), f, {c.list});
  if (c.exempt) {
    EXPECT_EQ(d.outcome, decision::allow) << testing::PrintToString(d.reasons);
    EXPECT_EQ(d.consent_id, "c-ebr");
  } else {
    EXPECT_EQ(d.outcome, decision::deny);
    ASSERT_EQ(d.reasons.size(), 1u);
    EXPECT_EQ(d.reasons[0], engine().settings().list(c.list)->reason);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, PolicyEbr, ::testing::ValuesIn(k_ebr),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PolicyLists, EbrVoidedByALaterOptout) {
  model::number_facts f;
  f.consents.push_back(consent("c-ebr", model::consent_kind::ebr_purchase, utc(2026, 1, 1, 0, 0)));
  f.optouts.push_back(optout("*", utc(2026, 2, 1, 0, 0)));
  const auto d = eval(manual_call(k_ny), f, {"federal"});
  EXPECT_EQ(d.reasons, (reasons{"optout", "federal_dnc"}));
  EXPECT_FALSE(d.consent_id);
}

TEST(PolicyLists, EbrOfAnotherSenderDoesNotExempt) {
  model::number_facts f;
  f.consents.push_back(
      consent("c-ebr", model::consent_kind::ebr_purchase, utc(2026, 1, 1, 0, 0), "other"));
  EXPECT_EQ(eval(manual_call(k_ny), f, {"federal"}).reasons, reasons{"federal_dnc"});
}

TEST(PolicyLists, ExemptWithConsentOffNeedsAnEbr) {
  auto e = make_engine(k_policy_toml +
                       "[lists.strict]\nexempt_with_consent = false\n"
                       "ebr_purchase_days = 0\nebr_inquiry_days = 0\n");
  auto lists = fresh_lists(k_noon);
  auto extra = snapshot_of({{"strict", list_spec{{k_ny}, "2026-03-10", 3}}});
  lists.lists.merge(extra.lists);
  auto d = e.evaluate(request(k_ny, k_noon), consented(), lists);
  EXPECT_EQ(d.reasons, reasons{"registry_dnc:strict"});
}

// ---- data staleness ------------------------------------------------------------------------

std::map<std::string, list_spec> all_lists(const std::string& snapshot) {
  std::map<std::string, list_spec> m;
  for (const char* n : {"internal", "litigator", "federal", "canada", "state:TX", "extra"})
    m[n] = list_spec{{}, snapshot, 1};
  return m;
}

TEST(PolicyStale, FederalOlderThanMaxAgeFailsClosed) {
  auto specs = all_lists("2026-03-10");
  specs["federal"].snapshot = "2026-02-06";  // 32 days before 2026-03-10
  auto d = engine().evaluate(request(k_ny, k_noon), consented(), snapshot_of(specs));
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, reasons{"dnc_data_stale"});
  specs["federal"].snapshot = "2026-02-07";  // 31 days: still fresh
  d = engine().evaluate(request(k_ny, k_noon), consented(), snapshot_of(specs));
  EXPECT_EQ(d.outcome, decision::allow);
}

TEST(PolicyStale, NotLoadedRegistriesGiveOneReason) {
  auto specs = all_lists("2026-03-10");
  specs.erase("federal");
  specs.erase("state:TX");
  const auto d = engine().evaluate(request(k_tx, k_noon), consented(), snapshot_of(specs));
  EXPECT_EQ(d.reasons, reasons{"dnc_data_stale"});
  EXPECT_EQ(d.lists.size(), 5u);
  EXPECT_EQ(d.lists[3], (list_consulted{"federal", 0, "", false}));
}

TEST(PolicyStale, StaleListStillReportsAListing) {
  auto specs = all_lists("2026-03-10");
  specs["federal"] = list_spec{{k_ny}, "2025-12-01", 4};
  const auto d = engine().evaluate(manual_call(k_ny), model::number_facts{}, snapshot_of(specs));
  EXPECT_EQ(d.reasons, (reasons{"federal_dnc", "dnc_data_stale"}));
}

TEST(PolicyStale, OptionalAndUncoveredListsDoNotFailClosed) {
  auto specs = all_lists("2026-03-10");
  specs.erase("extra");   // not required
  specs.erase("canada");  // does not cover a US number
  EXPECT_EQ(engine().evaluate(request(k_ny, k_noon), consented(), snapshot_of(specs)).outcome,
            decision::allow);
  specs = all_lists("2026-03-10");
  specs.erase("canada");
  EXPECT_EQ(engine().evaluate(request(k_on, k_noon), consented(), snapshot_of(specs)).reasons,
            reasons{"dnc_data_stale"});
}

TEST(PolicyStale, UnreadableSnapshotDateIsStale) {
  auto specs = all_lists("2026-03-10");
  specs["federal"].snapshot = "";
  EXPECT_EQ(engine().evaluate(request(k_ny, k_noon), consented(), snapshot_of(specs)).reasons,
            reasons{"dnc_data_stale"});
}

// ---- frequency caps ------------------------------------------------------------------------

model::number_facts with_contacts(std::vector<model::sys_time> contacts) {
  auto f = consented();
  f.recent_contacts = std::move(contacts);
  return f;
}

TEST(PolicyCaps, TwoInTheWindowAllow) {
  const auto f = with_contacts({k_noon - 23h, k_noon - 1h});
  EXPECT_EQ(eval(request(k_fl, k_noon), f).outcome, decision::allow);
}

TEST(PolicyCaps, ThreeInTheWindowDeferUntilTheOldestLeaves) {
  const auto f = with_contacts({k_noon - 23h, k_noon - 10h, k_noon - 1h});
  const auto d = eval(request(k_fl, k_noon), f);
  EXPECT_EQ(d.outcome, decision::defer);
  EXPECT_EQ(d.reasons, reasons{"frequency_cap"});
  EXPECT_EQ(d.retry_at, k_noon + 1h);
}

TEST(PolicyCaps, OneOutsideTheWindowDoesNotCount) {
  const auto f = with_contacts({k_noon - 24h, k_noon - 10h, k_noon - 1h});
  EXPECT_EQ(eval(request(k_fl, k_noon), f).outcome, decision::allow);
  const auto g = with_contacts({k_noon - 24h + 1s, k_noon - 10h, k_noon - 1h});
  EXPECT_EQ(eval(request(k_fl, k_noon), g).retry_at, k_noon + 1s);
}

TEST(PolicyCaps, MoreThanTheCapWaitsForEnoughToLeave) {
  const auto f = with_contacts({k_noon - 23h, k_noon - 20h, k_noon - 10h, k_noon - 1h});
  EXPECT_EQ(eval(request(k_fl, k_noon), f).retry_at, k_noon + 4h);
}

TEST(PolicyCaps, ClearingAfterTheWindowClosesWaitsForTheNextOpening) {
  const model::sys_time at = local(NY, 2026, 3, 10, 19, 0);
  auto f = with_contacts({local(NY, 2026, 3, 9, 19, 30), at - 8h, at - 7h});
  EXPECT_EQ(eval(request(k_fl, at), f).retry_at, local(NY, 2026, 3, 10, 19, 30));
  f = with_contacts(
      {local(NY, 2026, 3, 9, 20, 30), at - 8h, at - 7h});  // clears 20:30, FL closes 20:00
  const auto d = eval(request(k_fl, at), f);
  EXPECT_EQ(d.reasons, reasons{"frequency_cap"});
  EXPECT_EQ(d.retry_at, local(NY, 2026, 3, 11, 8, 0));
}

TEST(PolicyCaps, CapAndQuietHoursTogether) {
  const model::sys_time at = local(NY, 2026, 3, 10, 21, 0);
  const auto f = with_contacts({at - 2h, at - 1h, at - 30min});
  const auto d = eval(request(k_fl, at), f);
  EXPECT_EQ(d.reasons, (reasons{"quiet_hours", "frequency_cap"}));
  // The window opens at 08:00 but the cap frees a slot only at 19:00 (21:00 - 2 h + 24 h).
  EXPECT_EQ(d.retry_at, local(NY, 2026, 3, 11, 19, 0));
}

TEST(PolicyCaps, OnlyCappedStatesAndPurposes) {
  const auto f = with_contacts({k_noon - 3h, k_noon - 2h, k_noon - 1h, k_noon - 30min});
  EXPECT_EQ(eval(request(k_ny, k_noon), f).outcome, decision::allow);
  auto r = request(k_fl, k_noon);
  r.purpose = config::purpose::informational;
  EXPECT_EQ(eval(r, f).outcome, decision::allow);
}

TEST(PolicyCaps, CapForNamesTheCapOfTheRegion) {
  const config::frequency_cap* cap = engine().cap_for(k_fl, config::purpose::marketing);
  ASSERT_NE(cap, nullptr);
  EXPECT_EQ(cap->max, 3u);
  EXPECT_EQ(cap->window_hours, 24u);
  EXPECT_NE(engine().cap_for(num("+14105552671"), config::purpose::marketing), nullptr);  // MD
  EXPECT_EQ(engine().cap_for(k_ny, config::purpose::marketing), nullptr);
  EXPECT_EQ(engine().cap_for(k_fl, config::purpose::informational), nullptr);
}

TEST(PolicyCaps, UnsortedContactsAreCountedCorrectly) {
  const auto f = with_contacts({k_noon - 1h, k_noon - 23h, k_noon - 10h});
  EXPECT_EQ(eval(request(k_fl, k_noon), f).retry_at, k_noon + 1h);
}

// ---- store failure modes -------------------------------------------------------------------

TEST(PolicyStore, UnavailableDeniesAndStillReportsListsAndWindows) {
  model::number_facts f;
  f.available = false;
  const model::sys_time night = local(NY, 2026, 3, 10, 22, 0);
  const auto d = eval(request(k_ny, night), f, {"federal"});
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, (reasons{"store_unavailable", "federal_dnc", "quiet_hours"}));
  EXPECT_FALSE(d.retry_at);
}

TEST(PolicyStore, AllowModeSkipsStoreRules) {
  auto e = make_engine(k_policy_toml + "[policy.marketing]\non_store_unavailable = \"allow\"\n");
  model::number_facts f;
  f.available = false;
  f.optouts.push_back(optout("*", utc(2026, 1, 1, 0, 0)));  // ignored: not an answer
  auto d = e.evaluate(request(k_fl, k_noon), f, fresh_lists(k_noon));
  EXPECT_EQ(d.outcome, decision::allow);
  EXPECT_TRUE(d.reasons.empty());
  // A registry listing cannot be exempted without the store's consents.
  d = e.evaluate(request(k_fl, k_noon), f, fresh_lists(k_noon, k_fl, {"federal"}));
  EXPECT_EQ(d.reasons, reasons{"federal_dnc"});
}

// ---- everything at once --------------------------------------------------------------------

TEST(PolicyAll, EveryReasonIsReported) {
  model::number_facts f;
  f.optouts.push_back(optout("acme", utc(2026, 1, 1, 0, 0)));
  const model::sys_time night = local(NY, 2026, 3, 10, 23, 0);
  const auto d = eval(manual_call(k_ny, night), f, {"federal"});
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reasons, (reasons{"optout", "federal_dnc", "quiet_hours"}));
  EXPECT_FALSE(d.retry_at);
}

TEST(PolicyAll, DenyOutranksDeferAndDeferOutranksAllow) {
  const model::sys_time night = local(NY, 2026, 3, 10, 23, 0);
  EXPECT_EQ(eval(request(k_ny, night), model::number_facts{}).outcome, decision::deny);
  EXPECT_EQ(eval(request(k_ny, night), consented()).outcome, decision::defer);
  EXPECT_EQ(eval(request(k_ny, k_noon), consented()).outcome, decision::allow);
}

TEST(PolicyAll, NonNanpNumbersSkipCountryLists) {
  const model::phone_number uk = num("+442071838750");
  const model::sys_time at = utc(2026, 3, 10, 16, 0);
  const auto d = engine().evaluate(request(uk, at), consented(), fresh_lists(at, uk, {"federal"}));
  EXPECT_EQ(d.outcome, decision::allow);
  std::vector<std::string> names;
  for (const auto& l : d.lists) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"internal", "litigator"}));
}

TEST(PolicyEngine, ToStringAndErrors) {
  EXPECT_EQ(to_string(decision::allow), "allow");
  EXPECT_EQ(to_string(decision::deny), "deny");
  EXPECT_EQ(to_string(decision::defer), "defer");
  EXPECT_EQ(policy_engine::make(nullptr).error(), policy_errc::no_settings);
}

// ---- throughput (printed, not asserted) ----------------------------------------------------

TEST(PolicyThroughput, TypicalAllow) {
  const auto lists = fresh_lists(k_noon);
  const auto f = consented();
  auto r = request(k_ny, k_noon);
  constexpr int n = 200'000;
  std::size_t allowed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    r.at = k_noon + std::chrono::microseconds(i);
    allowed += engine().evaluate(r, f, lists).outcome == decision::allow;
  }
  const auto ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(allowed, std::size_t(n));
  std::printf("[ policy   ] evaluate() typical allow (NY, 6 lists, 1 consent): %.0f ns each\n",
              ns.count() / n);
  // A deferred split-zone number (retry search across two zones).
  r.to = num("+12082002671");
  const model::sys_time night = local(NY, 2026, 3, 10, 23, 0);
  const auto start2 = std::chrono::steady_clock::now();
  for (int i = 0; i < n / 10; ++i) {
    r.at = night + std::chrono::microseconds(i);
    allowed += engine().evaluate(r, f, lists).outcome == decision::defer;
  }
  const auto ns2 =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start2);
  std::printf(
      "[ policy   ] evaluate() quiet-hours defer with retry_at (208, 2 zones): %.0f ns each\n",
      ns2.count() / (n / 10));
}

}  // namespace
}  // namespace stopgate::dnc::policy
