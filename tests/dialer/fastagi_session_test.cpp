// The FastAGI session state machine, fed the lines Asterisk's res_agi writes.
#include "gateway/dialer/fastagi/session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stopgate::gateway::dialer::fastagi {
namespace {

// The environment block res_agi sends for AGI(agi://127.0.0.1:4573/check,ARGS...).
std::vector<std::string> environment(const std::string& script,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> lines = {
      "agi_network: yes",
      "agi_network_script: " + script,
      "agi_request: agi://127.0.0.1:4573/" + script,
      "agi_channel: PJSIP/trunk-00000007",
      "agi_language: en",
      "agi_type: PJSIP",
      "agi_uniqueid: 1700000000.42",
      "agi_version: 20.5.0",
      "agi_callerid: 4155550100",
      "agi_calleridname: Acme",
      "agi_callingpres: 0",
      "agi_callingani2: 0",
      "agi_callington: 0",
      "agi_callingtns: 0",
      "agi_dnid: unknown",
      "agi_rdnis: unknown",
      "agi_context: outbound",
      "agi_extension: 914155550123",
      "agi_priority: 2",
      "agi_enhanced: 0.0",
      "agi_accountcode: ",
      "agi_threadid: 140038196410112",
  };
  for (std::size_t i = 0; i < args.size(); ++i)
    lines.push_back("agi_arg_" + std::to_string(i + 1) + ": " + args[i]);
  lines.push_back("");
  return lines;
}

struct run {
  session s;
  session_output out;
  explicit run(session_options o = {}) : s(std::move(o)) {}
  session_output& feed(const std::vector<std::string>& lines) {
    out.clear();
    for (const auto& l : lines) {
      session_output one;
      s.on_line(l, one);
      if (one.check) out.check = one.check;
      out.write += one.write;
      out.close = out.close || one.close;
      if (!one.problem.empty()) out.problem = one.problem;
    }
    return out;
  }
  session_output& line(const std::string& l) { return feed({l}); }
  session_output& answer(const voice_answer& a) {
    out.clear();
    s.on_answer(a, out);
    return out;
  }
};

voice_answer deny() {
  voice_answer a;
  a.outcome = decision::deny;
  a.reasons = {"optout", "no_consent"};
  a.evidence_id = "gw1-42";
  a.to = "+14155550123";
  return a;
}

TEST(FastAgiSession, ReadsTheEnvironmentAndAsksForTheCheck) {
  run r;
  auto& out =
      r.feed(environment("check", {"+14155550123", "acme", "informational", "manual", "spring"}));
  ASSERT_TRUE(out.check);
  EXPECT_TRUE(out.write.empty());
  EXPECT_FALSE(out.close);
  EXPECT_EQ(out.check->to, "+14155550123");
  EXPECT_EQ(out.check->sender, "acme");
  EXPECT_EQ(out.check->call_purpose, config::purpose::informational);
  EXPECT_EQ(out.check->tech, config::voice_tech::manual);
  EXPECT_EQ(out.check->campaign, "spring");
  EXPECT_EQ(out.check->ref, "1700000000.42");
  EXPECT_EQ(out.check->source, check_source::fastagi);
  EXPECT_EQ(r.s.uniqueid(), "1700000000.42");
}

TEST(FastAgiSession, SetsTheVariablesOneCommandPerReplyThenCloses) {
  run r;
  r.feed(environment("check", {"+14155550123", "acme"}));
  auto& first = r.answer(deny());
  EXPECT_EQ(first.write, "SET VARIABLE STOPGATE_DECISION \"deny\"\n");
  EXPECT_EQ(r.line("200 result=1").write, "SET VARIABLE STOPGATE_REASONS \"optout,no_consent\"\n");
  EXPECT_EQ(r.line("200 result=1").write, "SET VARIABLE STOPGATE_RETRY_AT \"\"\n");
  EXPECT_EQ(r.line("200 result=1").write, "SET VARIABLE STOPGATE_EVIDENCE_ID \"gw1-42\"\n");
  auto& last = r.line("200 result=1");
  EXPECT_TRUE(last.write.empty());
  EXPECT_TRUE(last.close);
  EXPECT_TRUE(last.problem.empty());
  EXPECT_EQ(r.s.current(), session::phase::done);
}

TEST(FastAgiSession, DefaultsAndKeyValueArgumentsAndTheScriptQuery) {
  session_options o;
  o.defaults.sender = "acme";
  o.defaults.tech = config::voice_tech::prerecorded;
  o.defaults.campaign = "base";
  run r(o);
  auto& out = r.feed(
      environment("/check?tech=manual&campaign=q%201", {"4155550123", "purpose=informational"}));
  ASSERT_TRUE(out.check) << out.problem;
  EXPECT_EQ(out.check->to, "4155550123");
  EXPECT_EQ(out.check->sender, "acme");
  EXPECT_EQ(out.check->tech, config::voice_tech::manual);
  EXPECT_EQ(out.check->campaign, "q 1");
  EXPECT_EQ(out.check->call_purpose, config::purpose::informational);
}

TEST(FastAgiSession, ADeferSetsRetryAtAndAnAllowSaysAllow) {
  run r;
  r.feed(environment("check", {"+14155550123"}));
  voice_answer a;
  a.outcome = decision::defer;
  a.reasons = {"quiet_hours"};
  a.retry_at_text = "2026-12-02T13:00:00Z";
  EXPECT_EQ(r.answer(a).write, "SET VARIABLE STOPGATE_DECISION \"defer\"\n");
  r.line("200 result=1");
  EXPECT_EQ(r.line("200 result=1").write,
            "SET VARIABLE STOPGATE_RETRY_AT \"2026-12-02T13:00:00Z\"\n");
  run r2;
  r2.feed(environment("check", {"+14155550123"}));
  voice_answer ok;
  ok.outcome = decision::allow;
  EXPECT_EQ(r2.answer(ok).write, "SET VARIABLE STOPGATE_DECISION \"allow\"\n");
}

TEST(FastAgiSession, AFailClosedAnswerSetsDenyWhateverItsOutcome) {
  run r;
  r.feed(environment("check", {"+14155550123"}));
  voice_answer a = voice_answer::failed("store_unavailable");
  a.outcome = decision::allow;
  EXPECT_EQ(r.answer(a).write, "SET VARIABLE STOPGATE_DECISION \"deny\"\n");
  EXPECT_EQ(r.line("200 result=1").write, "SET VARIABLE STOPGATE_REASONS \"store_unavailable\"\n");
}

TEST(FastAgiSession, HangupWhileCheckingEndsWithoutCommands) {
  run r;
  r.feed(environment("check", {"+14155550123"}));
  auto& out = r.line("HANGUP");
  EXPECT_FALSE(out.close);  // the check still runs and is recorded
  EXPECT_TRUE(r.s.hung_up());
  auto& done = r.answer(deny());
  EXPECT_TRUE(done.write.empty());
  EXPECT_TRUE(done.close);
}

TEST(FastAgiSession, HangupBetweenCommandsWaitsForTheReplyThenStops) {
  run r;
  r.feed(environment("check", {"+14155550123"}));
  r.answer(deny());
  EXPECT_TRUE(r.line("HANGUP").write.empty());
  // res_agi still answers the command in flight (SET VARIABLE works on a dead channel).
  auto& out = r.line("200 result=1");
  EXPECT_TRUE(out.write.empty());
  EXPECT_TRUE(out.close);
}

struct bad_input {
  const char* name;
  std::vector<std::string> lines;
  std::string problem_starts;
};

void PrintTo(const bad_input& c, std::ostream* os) {
  *os << c.name;
}

class FastAgiMalformed : public testing::TestWithParam<bad_input> {};

TEST_P(FastAgiMalformed, LogsAndCloses) {
  run r;
  auto& out = r.feed(GetParam().lines);
  EXPECT_TRUE(out.close);
  EXPECT_FALSE(out.check);
  EXPECT_TRUE(out.problem.starts_with(GetParam().problem_starts)) << out.problem;
}

INSTANTIATE_TEST_SUITE_P(
    Table, FastAgiMalformed,
    testing::Values(bad_input{"not_agi", {"GET / HTTP/1.1"}, "malformed line"},
                    bad_input{"no_colon", {"agi_network yes"}, "malformed line"},
                    bad_input{"upper_case_key", {"AGI_NETWORK: yes"}, "malformed line"},
                    bad_input{"bad_arg_index", {"agi_arg_x: 1"}, "malformed agi_arg_N"},
                    bad_input{"arg_zero", {"agi_arg_0: 1"}, "malformed agi_arg_N"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(FastAgiSession, TooLongAnEnvironmentIsRefused) {
  run r;
  std::vector<std::string> lines(300, "agi_extra: x");
  EXPECT_TRUE(r.feed(lines).close);
  EXPECT_EQ(r.out.problem, "more than 256 lines in the agi_* block");
}

TEST(FastAgiSession, ARequestThatCannotBeCheckedIsDeniedSoTheDialplanBlocks) {
  for (auto [script, args, problem] :
       std::vector<std::tuple<std::string, std::vector<std::string>, std::string>>{
           {"other", {"+14155550123"}, "unknown script"},
           {"check", {}, "no number"},
           {"check", {"+14155550123", "acme", "sales"}, "purpose must be"},
           {"check", {"+14155550123", "acme", "marketing", "robot"}, "tech must be"},
           {"check", {"+14155550123", "color=red"}, "unknown argument color"}}) {
    run r;
    auto& out = r.feed(environment(script, args));
    EXPECT_FALSE(out.check) << script;
    EXPECT_EQ(out.write, "SET VARIABLE STOPGATE_DECISION \"deny\"\n") << problem;
    EXPECT_TRUE(out.problem.starts_with(problem)) << out.problem;
    EXPECT_EQ(r.line("200 result=1").write, "SET VARIABLE STOPGATE_REASONS \"bad_request\"\n");
  }
}

TEST(FastAgiSession, AnErrorReplyOrAStrayLineClosesTheSession) {
  run r;
  r.feed(environment("check", {"+14155550123"}));
  r.answer(deny());
  auto& out = r.line("511 Command Not Permitted on a dead channel");
  EXPECT_TRUE(out.close);
  EXPECT_TRUE(out.problem.starts_with("Asterisk refused a command: 511")) << out.problem;
  run r2;
  r2.feed(environment("check", {"+14155550123"}));
  auto& stray = r2.line("200 result=1");
  EXPECT_TRUE(stray.close);
  EXPECT_EQ(stray.problem, "unexpected line while the check runs");
  run r3;
  r3.feed(environment("check", {"+14155550123"}));
  r3.answer(deny());
  EXPECT_TRUE(r3.line("520-Invalid command syntax.  Proper usage follows:").close);
}

TEST(FastAgiSession, SetVariableQuotesWhatAsteriskWouldSplit) {
  EXPECT_EQ(set_variable("V", "a \"b\" \\c\r\nd"), "SET VARIABLE V \"a \\\"b\\\" \\\\cd\"\n");
}

TEST(FastAgiSession, EndOfInputInsideTheBlockIsReported) {
  run r;
  r.feed({"agi_network: yes"});
  session_output out;
  r.s.on_end_of_input(out);
  EXPECT_TRUE(out.close);
  EXPECT_EQ(out.problem, "Asterisk closed the connection inside the agi_* block");
}

}  // namespace
}  // namespace stopgate::gateway::dialer::fastagi
