// `stopgatectl contacts rebuild` against a hand-written evidence log and a real redis-server:
// no pseudonym key in Redis, no rebuild; a record that cannot be read is reported and fails the
// run without stopping it; consent texts sealed with evidence.encryption_key come back only
// with the key (without it the consent is restored and the summary says its text was not);
// --dry-run writes nothing.
#include "dnc/contacts/keys.hpp"
#include "gateway/evidence/crypto.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace stopgate::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

json::object record(int seq, std::string type, json::object fields) {
  fields["id"] = "gwT-" + std::to_string(seq);
  fields["seq"] = seq;
  fields["ts"] = "2026-12-01T10:00:0" + std::to_string(seq) + ".000000Z";
  fields["type"] = std::move(type);
  return fields;
}

TEST(StopgatectlRebuild, SealedTextsNeedTheKeyAndBadRecordsAreReported) {
  redis_server r;
  temp_dir d;
  const fs::path dir = d.path() / "evidence";
  fs::create_directories(dir);
  const std::string aes(32, 'k');
  evidence::aes_gcm cipher(aes);
  auto consent = record(1, "consent", {{"to", "+13125552671"}, {"sender", "acme"}, {"kind", "express_written"},
                                       {"captured_at", "2026-12-01T10:00:01Z"}, {"method", "web_form"},
                                       {"text", "I agree to receive texts."}});
  ASSERT_FALSE(evidence::encrypt_fields(consent, cipher, "gwT-1"));
  auto optout = record(2, "optout", {{"to", "+13125552672"}, {"sender", "acme"}, {"at", "2026-12-01T10:00:02Z"},
                                     {"channel", "api"}});
  auto unreadable = record(3, "optout", {{"to", "not a number"}, {"sender", "acme"}, {"at", "2026-12-01T10:00:03Z"}});
  auto decision = record(4, "decision", {{"to", "+13125552673"}, {"decision", "allow"}});
  {
    std::ofstream f(dir / "gwT-20261201-000001.jsonl");
    for (auto* rec : {&consent, &optout, &unreadable, &decision}) f << json::serialize(*rec) << "\n";
  }
  const std::string ctl = built_program("tools/stopgatectl/stopgatectl");
  auto rebuild = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{ctl, "--redis", r.tcp_url(), "contacts", "rebuild", "--from-evidence", "--dir",
                                  dir.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_program(argv);
  };
  ::unsetenv("STOPGATE_EVIDENCE_ENC_KEY");

  auto [code0, out0] = rebuild();
  EXPECT_EQ(code0, 1) << out0;
  EXPECT_THAT(out0, HasSubstr("holds no contact pseudonym key")) << out0;
  EXPECT_EQ(r.cli("DBSIZE"), "0") << "nothing written";

  const std::string secret = "0123456789abcdef0123456789abcdef";
  ASSERT_EQ(r.cli("SET stopgate:contacts:pseudonym-key " + secret), "OK");
  auto [dcode, dout] = rebuild({"--dry-run"});
  EXPECT_EQ(dcode, 1) << dout;  // the unreadable record
  EXPECT_THAT(dout, HasSubstr("checked 2 records")) << dout;
  EXPECT_EQ(r.cli("DBSIZE"), "1") << "a dry run writes nothing";

  auto [code1, out1] = rebuild();
  EXPECT_EQ(code1, 1) << out1;
  EXPECT_THAT(out1, HasSubstr("skipped gwT-3 (optout): no readable number in 'to'")) << out1;
  EXPECT_THAT(out1, HasSubstr("1 records could not be replayed")) << out1;
  EXPECT_THAT(out1, HasSubstr("1 consent texts are sealed")) << out1;
  EXPECT_THAT(out1, HasSubstr("1 opt-outs")) << out1;
  auto p = dnc::contacts::contact_keys::pseudonymizer::create(secret).value();
  const std::string details = p.tag(*dnc::model::parse_e164("+13125552671")) + ":cd";
  const std::string id = dnc::contacts::contact_keys::consent_id_of("gwT-1");
  EXPECT_THAT(r.cli("HGET '" + details + "' " + id), Not(HasSubstr("I agree"))) << "sealed, no key";
  EXPECT_THAT(r.cli("HGET '" + details + "' " + id), HasSubstr("web_form"));

  std::string hex;
  for (unsigned char c : aes) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
  ::setenv("STOPGATE_EVIDENCE_ENC_KEY", hex.c_str(), 1);
  auto [code2, out2] = rebuild();
  ::unsetenv("STOPGATE_EVIDENCE_ENC_KEY");
  EXPECT_THAT(out2, Not(HasSubstr("sealed"))) << out2;
  EXPECT_THAT(r.cli("HGET '" + details + "' " + id), HasSubstr("I agree to receive texts.")) << out2;
  EXPECT_EQ(code2, 1) << "still the unreadable record";
}

}  // namespace
}  // namespace stopgate::test
