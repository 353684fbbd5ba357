// stopgatectl as an operator runs it: the built program against a config of its own, with no
// gateway running. It must not load into a Redis no gateway reads, must name where it wrote,
// must refuse a list the config does not name, must not ask for secrets a command does not
// use, and every command must answer --help.
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace stopgate::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

// A config of the operator's own: its data directory under the test's temp dir, one list.
struct operator_dir {
  operator_dir() {
    ::setenv("STOPGATE_EVIDENCE_KEY", std::string(40, 'k').c_str(), 1);
    config = d.write("sg.toml",
                     "[server]\ndata_dir = \"" + var().string() +
                         "\"\n[carriers.sandbox]\ntype = \"sandbox\"\n"
                         "[senders.acme]\nnumbers = [\"+14155552671\"]\nroute = [\"sandbox\"]\n"
                         "[lists.internal]\nkind = \"internal\"\n");
    numbers = d.write("numbers.txt", "2125552671\n3125552671\n");
  }
  fs::path var() const { return d.path() / "var"; }
  std::pair<int, std::string> ctl(std::vector<std::string> args) const {
    std::vector<std::string> argv{built_program("tools/stopgatectl/stopgatectl"), "--config",
                                  config.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
  }
  temp_dir d;
  fs::path config, numbers;
};

TEST(StopgatectlManaged, WithoutARunningGatewayALoadIsRefusedAndNothingIsStarted) {
  operator_dir o;
  auto [code, out] =
      o.ctl({"dnc", "load", "--list", "internal", "--format", "lines", o.numbers.string()});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("no managed Redis is running in " + o.var().string())) << out;
  EXPECT_THAT(out, HasSubstr("--managed")) << out;
  EXPECT_THAT(out, Not(HasSubstr("loaded internal"))) << out;
  // Nothing under the data directory: no Redis was started, no file written.
  EXPECT_FALSE(fs::exists(o.var() / "redis")) << out;
  EXPECT_FALSE(fs::exists(o.var() / "redis.sock")) << out;
  auto [scode, sout] = o.ctl({"dnc", "status"});
  EXPECT_EQ(scode, 1) << sout;
  EXPECT_FALSE(fs::exists(o.var() / "redis")) << sout;
}

TEST(StopgatectlManaged, WithManagedItLoadsAndSaysIntoWhichRedis) {
  operator_dir o;
  // A file name with a quote: dnc status --json must still write JSON.
  auto file = o.d.write("we\"ird.txt", "2125552671\n3125552671\n4155552671\n");
  auto [code, out] =
      o.ctl({"--managed", "dnc", "load", "--list", "internal", "--format", "lines", file.string()});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("loaded internal into the managed Redis at " +
                             (o.var() / "redis.sock").string() + " (started by this command)"))
      << out;
  // The server it started is stopped again; its append-only file keeps the list.
  auto [scode, sout] = o.ctl({"dnc", "status", "--json", "--managed"});
  ASSERT_EQ(scode, 0) << sout;
  std::istringstream lines(sout);
  std::string line;
  int parsed = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    const auto& obj = v.as_object();
    EXPECT_EQ(obj.at("list"), "internal");
    EXPECT_EQ(obj.at("count").to_number<std::uint64_t>(), 3u);
    EXPECT_EQ(obj.at("source"), "we\"ird.txt");
    ++parsed;
  }
  EXPECT_EQ(parsed, 1) << sout;
}

TEST(StopgatectlLists, AListTheConfigDoesNotNameNeedsForce) {
  operator_dir o;
  auto [code, out] = o.ctl(
      {"--managed", "dnc", "load", "--list", "nosuch", "--format", "lines", o.numbers.string()});
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("list 'nosuch' is not configured")) << out;
  EXPECT_THAT(out, HasSubstr("configured: internal")) << out;
  EXPECT_THAT(out, HasSubstr("--force")) << out;
  EXPECT_FALSE(fs::exists(o.var() / "redis")) << "refused before any Redis was started";
  auto [fcode, fout] = o.ctl({"--managed", "dnc", "load", "--list", "nosuch", "--force", "--format",
                              "lines", o.numbers.string()});
  EXPECT_EQ(fcode, 0) << fout;
  EXPECT_THAT(fout, HasSubstr("loaded nosuch into")) << fout;
}

TEST(StopgatectlSecrets, CommandsResolveOnlyTheSecretsTheyUse) {
  operator_dir o;
  ::unsetenv("STOPGATE_EVIDENCE_KEY");
  // dnc status needs the Redis, not the evidence key: it gets as far as looking for Redis.
  auto [code, out] = o.ctl({"dnc", "status"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, Not(HasSubstr("STOPGATE_EVIDENCE_KEY"))) << out;
  EXPECT_THAT(out, HasSubstr("no managed Redis is running")) << out;
  // The hash chain alone needs no key; a full verify does, and says which.
  auto [vcode, vout] = o.ctl({"evidence", "verify", "--chain-only"});
  EXPECT_THAT(vout, Not(HasSubstr("STOPGATE_EVIDENCE_KEY"))) << vout;
  auto [fcode, fout] = o.ctl({"evidence", "verify"});
  EXPECT_EQ(fcode, 1) << fout;
  EXPECT_THAT(fout, HasSubstr("STOPGATE_EVIDENCE_KEY is not set")) << fout;
}

TEST(StopgatectlHelp, EveryCommandAnswersHelpOnStdoutWithExitZero) {
  operator_dir o;
  const std::vector<std::vector<std::string>> helps{{"--help"},
                                                    {"keys", "--help"},
                                                    {"keys", "new", "--help"},
                                                    {"dnc", "--help"},
                                                    {"dnc", "load", "--help"},
                                                    {"dnc", "apply", "--help"},
                                                    {"dnc", "status", "--help"},
                                                    {"check", "--help"},
                                                    {"lookup", "--help"},
                                                    {"evidence", "--help"}};
  for (const auto& args : helps) {
    auto [code, out] = o.ctl(args);
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    EXPECT_EQ(code, 0) << "stopgatectl" << cmd << ":\n" << out;
    EXPECT_THAT(out, Not(HasSubstr("unexpected argument"))) << cmd;
    EXPECT_GT(out.size(), 40u) << cmd << ": " << out;
  }
  // Defaults are shown as an operator would write them.
  auto [code, out] = o.ctl({"dnc", "load", "--help"});
  EXPECT_THAT(out, HasSubstr("(=0.1)")) << out;
  EXPECT_THAT(out, Not(HasSubstr("0.1000000"))) << out;
  EXPECT_FALSE(fs::exists(o.var() / "redis")) << "help starts nothing";
}

}  // namespace
}  // namespace stopgate::test
