// The queue's release rule (gateway/queue/release.hpp) over the real policy engine, with the
// clock injected: a queued message is held exactly until its own number's rules allow it, and
// checked again when it comes due (the scheduler does what plan_release says at that instant).
#include "gateway/queue/release.hpp"
#include "tests/dnc/policy/engine_test_support.hpp"

#include <gtest/gtest.h>

namespace stopgate::gateway::queue {
namespace {

using namespace std::chrono_literals;
using dnc::policy::decision;
using dnc::policy::local;
using dnc::policy::num;
using dnc::policy::utc;
namespace model = dnc::model;

const char* const NY = "America/New_York";
const char* const CHI = "America/Chicago";

const dnc::policy::policy_engine& engine() {
  static const auto e = dnc::policy::make_engine(dnc::policy::k_policy_toml);
  return e;
}

queued_payload payload_to(const char* e164) {
  queued_payload p;
  p.to = e164;
  p.sender = "acme";
  p.from = "+14155552671";
  p.body = "Spring sale";
  p.route = {"sandbox"};
  return p;
}

struct released {
  std::optional<model::sys_time> at;  // sent at
  release_step last;                  // the step that ended it
  int holds = 0;
};

// What the scheduler does with message `p` queued at `start`: at every due instant, the check
// with the facts then, then the step; until it is sent, cancelled or expired.
released run(const queued_payload& p, model::sys_time start,
             const std::function<model::number_facts(model::sys_time)>& facts_at) {
  released out;
  model::sys_time at = start;
  for (int i = 0; i < 20; ++i) {
    auto req = dnc::policy::request(num(p.to.c_str()), at);
    const auto d = engine().evaluate(req, facts_at(at), dnc::policy::fresh_lists(at));
    out.last = plan_release(p, d, at);
    if (out.last.action == release_action::send) {
      out.at = at;
      return out;
    }
    if (out.last.action != release_action::hold) return out;
    EXPECT_GT(out.last.until, at) << "a hold always moves forward";
    at = out.last.until;
    ++out.holds;
  }
  ADD_FAILURE() << "never released";
  return out;
}

model::number_facts consented(model::sys_time) {
  return dnc::policy::consented();
}

TEST(QueueRelease, ACampaignQueuedAt2105EasternReleasesEachNumberWhenItsOwnWindowOpens) {
  // Saturday 7 March 2026, 21:05 in New York; the clocks spring forward that night.
  const auto queued = local(NY, 2026, 3, 7, 21, 5);
  auto ny = run(payload_to("+12125552671"), queued, consented);
  auto chi = run(payload_to("+13125552671"), queued, consented);
  auto la = run(payload_to("+12135552671"), queued, consented);
  ASSERT_TRUE(ny.at && chi.at && la.at);
  // New York: held overnight, released at 08:00 EDT (12:00 UTC, not 13:00: after the jump).
  EXPECT_EQ(*ny.at, local(NY, 2026, 3, 8, 8, 0));
  EXPECT_EQ(*ny.at, utc(2026, 3, 8, 12, 0));
  EXPECT_EQ(ny.holds, 1);
  // Chicago (20:05) and Los Angeles (18:05) are inside their windows: sent at once.
  EXPECT_EQ(*chi.at, queued);
  EXPECT_EQ(*la.at, queued);
  // One second before the release the rules still defer it.
  const auto d = engine().evaluate(dnc::policy::request(num("+12125552671"), *ny.at - 1s),
                                   dnc::policy::consented(), dnc::policy::fresh_lists(*ny.at));
  EXPECT_EQ(d.outcome, decision::defer);
}

TEST(QueueRelease, ASundayBanAndAHolidayWeekendHoldUntilMondayMorning) {
  // Alabama bans Sundays and observes 3 July 2026 (Friday) as Independence Day.
  const auto queued = local(CHI, 2026, 7, 3, 12, 0);
  auto al = run(payload_to("+12055552671"), queued, consented);
  ASSERT_TRUE(al.at);
  EXPECT_EQ(*al.at, local(CHI, 2026, 7, 6, 8, 0));
  EXPECT_EQ(al.last.action, release_action::send);
}

TEST(QueueRelease, AFrequencyCapHoldsUntilTheOldestContactLeavesItsWindowAndTheWindowIsOpen) {
  // Florida: 3 marketing contacts per 24 h, calls 08:00-20:00. Three were made at 20:30 the
  // evening before, 10:00 and 11:00: the first leaves the window at 20:30 today, after the
  // window closed, so the message waits for 08:00 tomorrow.
  const auto noon = local(NY, 2026, 3, 11, 12, 0);
  auto facts = [&](model::sys_time) {
    auto f = dnc::policy::consented();
    f.recent_contacts = {noon - 15h - 30min, noon - 2h, noon - 1h};
    return f;
  };
  auto p = payload_to("+13055552671");
  p.campaign = "spring";
  auto fl = run(p, noon, facts);
  ASSERT_TRUE(fl.at);
  EXPECT_GE(*fl.at, noon - 15h - 30min + 24h) << "not before the cap clears";
  EXPECT_EQ(*fl.at, local(NY, 2026, 3, 12, 8, 0));
  const auto d = engine().evaluate(dnc::policy::request(num("+13055552671"), *fl.at - 1s),
                                   facts(*fl.at), dnc::policy::fresh_lists(*fl.at));
  EXPECT_EQ(d.outcome, decision::defer) << "released at the first instant the rules allow";
}

TEST(QueueRelease, AnOptOutOrAnExpiredConsentBeforeReleaseCancels) {
  const auto queued = local(NY, 2026, 3, 10, 22, 0);  // quiet hours: held until 08:00
  const auto optout_at = queued + 2h;
  auto p = payload_to("+12125552671");
  auto opted = run(p, queued, [&](model::sys_time at) {
    auto f = dnc::policy::consented();
    if (at >= optout_at) f.optouts.push_back(dnc::policy::optout("acme", optout_at));
    return f;
  });
  EXPECT_FALSE(opted.at);
  EXPECT_EQ(opted.last.action, release_action::cancel);
  EXPECT_EQ(opted.last.reason, "optout");

  // The consent that allowed it when queued lapses at 03:00, before the window opens.
  auto lapsed = run(p, queued, [&](model::sys_time) {
    model::number_facts f;
    f.consents.push_back(dnc::policy::consent("c1", model::consent_kind::express_written,
                                              utc(2025, 1, 1, 0, 0), "acme",
                                              local(NY, 2026, 3, 11, 3, 0)));
    return f;
  });
  EXPECT_FALSE(lapsed.at);
  EXPECT_EQ(lapsed.last.action, release_action::cancel);
}

TEST(QueueRelease, SendAtAndExpiresAtBoundTheRelease) {
  const auto t0 = local(NY, 2026, 3, 10, 12, 0);  // inside the window
  auto p = payload_to("+12125552671");
  p.send_at = t0 + 30min;
  auto r = run(p, t0, consented);
  ASSERT_TRUE(r.at);
  EXPECT_EQ(*r.at, t0 + 30min);
  EXPECT_EQ(r.holds, 1);

  // Queued at 20:30 and good until 23:00: the window closes at 21:00 and opens at 08:00.
  auto q = payload_to("+12125552671");
  q.expires_at = local(NY, 2026, 3, 10, 23, 0);
  auto late = run(q, local(NY, 2026, 3, 10, 21, 30), consented);
  EXPECT_FALSE(late.at);
  EXPECT_EQ(late.last.action, release_action::expire) << "held past its expiry: dropped now";
  auto expired = run(q, local(NY, 2026, 3, 10, 23, 0), consented);
  EXPECT_EQ(expired.last.action, release_action::expire);
  EXPECT_EQ(expired.last.reason, "expires_at");
}

}  // namespace
}  // namespace stopgate::gateway::queue
