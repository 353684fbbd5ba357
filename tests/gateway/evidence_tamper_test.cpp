// Tampering with the evidence log is detected by verify: every single-byte change, a deleted
// line, two swapped lines, a truncated record, and an edit re-chained without the HMAC key.
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/evidence/verify.hpp"
#include "tests/gateway/evidence_test_support.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace stopgate::evidence {
namespace {

constexpr const char* key = "test-hmac-key-0123456789";

class EvidenceTamper : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = log::open(test::small_options(tmp_.path())).value();
    for (int i = 0; i < 8; ++i)
      ASSERT_TRUE(log->append_sync(i % 2 ? record_type::optout : record_type::consent,
                                   test::fields("+14155552671", std::to_string(i))));
    log->close();
    seg_ = test::segments(tmp_.path())[0].path;
    original_ = test::read_all(seg_);
    ASSERT_FALSE(verify(key).failure);
  }
  verify_report verify(const std::string& k) { return verify_directory(tmp_.path(), k).value(); }
  std::vector<std::string> lines() const { return test::split_lines(original_); }

  stopgate::test::temp_dir tmp_;
  std::filesystem::path seg_;
  std::string original_;
};

TEST_F(EvidenceTamper, EveryFlippedByteIsDetected) {
  for (std::size_t pos = 0; pos < original_.size(); ++pos) {
    std::string edited = original_;
    edited[pos] = char(edited[pos] ^ 0x01);
    test::write_all(seg_, edited);
    const auto r = verify(key);
    ASSERT_TRUE(r.failure) << "flip at byte " << pos << " went undetected";
  }
}

TEST_F(EvidenceTamper, DeletedLineIsDetected) {
  for (std::size_t i = 0; i < lines().size(); ++i) {
    auto l = lines();
    l.erase(l.begin() + long(i));
    test::write_all(seg_, test::join_lines(l));
    const auto r = verify(key);
    // Deleting the very last line leaves a shorter valid chain: the final checkpoint is
    // gone, which only external anchoring can reveal (docs/EVIDENCE.md); all others fail.
    if (i + 1 == lines().size()) continue;
    ASSERT_TRUE(r.failure) << "deleting line " << i + 1;
    // The first line's absence shows as a chain that starts without a retention anchor.
    EXPECT_EQ(r.failure->code, i == 0 ? errc::missing_anchor : errc::chain_broken);
  }
}

TEST_F(EvidenceTamper, SwappedLinesAreDetected) {
  auto l = lines();
  std::swap(l[2], l[3]);
  test::write_all(seg_, test::join_lines(l));
  const auto r = verify(key);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->line, 3u);
  EXPECT_NE(r.failure->what.find("seq 4 where 3 was expected"), std::string::npos)
      << r.failure->what;
}

TEST_F(EvidenceTamper, TruncatedRecordIsDetected) {
  test::write_all(seg_, original_.substr(0, original_.size() - 40));
  const auto r = verify(key);
  ASSERT_TRUE(r.failure);
  EXPECT_NE(r.failure->what.find("torn"), std::string::npos) << r.failure->what;
}

TEST_F(EvidenceTamper, RechainedEditWithoutKeyIsDetectedByTheKey) {
  auto l = lines();
  // Turn an opt-out (line 2) into a consent and re-chain everything after it.
  l[1].replace(l[1].find("\"type\":\"optout\""), 15, "\"type\":\"optin\"");
  test::write_all(seg_, test::join_lines(test::rechain(l)));
  // The plain chain holds again...
  EXPECT_FALSE(verify("").failure);
  // ...but the checkpoint HMACs do not.
  const auto r = verify(key);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, errc::checkpoint_mismatch);
  EXPECT_EQ(r.failure->seq, 6u);
  // A different key is told apart from an edit.
  EXPECT_NE(verify("another-key").failure->what.find("key_id"), std::string::npos);
}

TEST_F(EvidenceTamper, PythonCheckerAgreesWithVerify) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const std::string script = std::string(STOPGATE_SOURCE_DIR) + "/tools/evidence_check.py";
  const std::string cmd = "python3 " + script + " --key-env EVIDENCE_TEST_KEY " +
                          tmp_.path().string() + " > /dev/null 2>&1";
  ::setenv("EVIDENCE_TEST_KEY", key, 1);
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  auto l = lines();
  l[1].replace(l[1].find("\"type\":\"optout\""), 15, "\"type\":\"optin\"");
  test::write_all(seg_, test::join_lines(test::rechain(l)));
  EXPECT_NE(std::system(cmd.c_str()), 0);
  test::write_all(seg_, original_.substr(0, 100) + "X" + original_.substr(101));
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

TEST_F(EvidenceTamper, StopgatectlVerifyExitCodes) {
  const std::string ctl = std::string(STOPGATE_BINARY_DIR) + "/tools/stopgatectl/stopgatectl";
  if (!std::filesystem::exists(ctl)) GTEST_SKIP() << "stopgatectl not built";
  const std::string base = ctl + " evidence verify " + tmp_.path().string() + " > /dev/null 2>&1";
  auto exit_code = [](const std::string& cmd) {
    const int s = std::system(cmd.c_str());
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  };
  ::unsetenv("STOPGATE_EVIDENCE_KEY");
  EXPECT_EQ(exit_code(base), 1);                                  // no key: not proven
  EXPECT_EQ(exit_code(ctl + " evidence verify --chain-only " + tmp_.path().string() + " > /dev/null"), 0);
  EXPECT_EQ(exit_code("STOPGATE_EVIDENCE_KEY=" + std::string(key) + " " + base), 0);
  EXPECT_EQ(exit_code("STOPGATE_EVIDENCE_KEY=wrong " + base), 1);
  EXPECT_EQ(exit_code(ctl + " evidence verify --bogus > /dev/null 2>&1"), 2);
}

}  // namespace
}  // namespace stopgate::evidence
