// Evidence log: append/verify round trips, canonical form, checkpoints, rolls, recovery,
// retention, encryption (gateway/evidence/log.hpp, verify.hpp).
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/index.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/evidence/verify.hpp"
#include "tests/gateway/evidence_test_support.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace stopgate::evidence {
namespace {

using namespace std::chrono_literals;
using test::manual_clock;

TEST(EvidenceRecord, CanonicalFormSortsKeysAndRejectsFloats) {
  boost::json::object o;
  o["b"] = 1;
  o["a"] = boost::json::object{{"z", "q\"\n\x01"}, {"y", true}};
  o["c"] = boost::json::array{1, "é", nullptr};
  std::string out;
  ASSERT_TRUE(append_canonical(out, o));
  EXPECT_EQ(out, "{\"a\":{\"y\":true,\"z\":\"q\\\"\\n\\u0001\"},\"b\":1,\"c\":[1,\"é\",null]}");
  std::string bad;
  EXPECT_FALSE(append_canonical(bad, boost::json::value(1.5)));
  EXPECT_FALSE(append_canonical(bad, boost::json::value("\xff")));
}

TEST(EvidenceRecord, TimestampsRoundTripWithMicroseconds) {
  const auto t = parse_ts("2026-11-29T23:59:59.123456Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_ts(*t), "2026-11-29T23:59:59.123456Z");
  EXPECT_EQ(format_ts(*parse_ts("2026-11-30")), "2026-11-30T00:00:00.000000Z");
  EXPECT_FALSE(parse_ts("2026-13-01"));
  EXPECT_FALSE(parse_ts("2026-11-29T10:00:00+02:00"));
}

TEST(EvidenceLog, AppendVerifyRoundTrip) {
  stopgate::test::temp_dir tmp;
  manual_clock clock;
  {
    auto log = log::open(test::small_options(tmp.path()), clock.hooks()).value();
    for (int i = 1; i <= 12; ++i) {
      auto a = log->append_sync(record_type::consent, test::fields("+14155552671"));
      ASSERT_TRUE(a) << a.error().message();
      // 5 records, then a checkpoint: seq numbers skip the checkpoints.
      EXPECT_EQ(a->id, "gw1-" + std::to_string(a->seq));
      clock.advance(1ms);
    }
    EXPECT_EQ(log->durable_seq(), 14u);
  }
  auto r = verify_directory(tmp.path(), "test-hmac-key-0123456789").value();
  EXPECT_FALSE(r.failure) << r.failure->describe();
  // 12 records + 2 checkpoints every 5 + 1 final checkpoint at close.
  EXPECT_EQ(r.records, 15u);
  EXPECT_EQ(r.checkpoints_checked, 3u);
  EXPECT_EQ(r.uncovered, 0u);
  const auto lines = test::split_lines(test::read_all(test::segments(tmp.path())[0].path));
  auto first = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(first["prev"], boost::json::value(genesis_hash));
  EXPECT_EQ(first["ts"], "2026-11-29T10:00:00.000000Z");
  EXPECT_EQ(first["type"], "consent");
}

TEST(EvidenceLog, RejectsReservedFieldsFloatsAndOwnTypes) {
  stopgate::test::temp_dir tmp;
  auto log = log::open(test::small_options(tmp.path())).value();
  auto f = test::fields("+14155552671");
  f["seq"] = 7;
  EXPECT_EQ(log->append_sync(record_type::send, f).error(), errc::reserved_field);
  auto g = test::fields("+14155552671");
  g["price"] = 0.5;
  EXPECT_EQ(log->append_sync(record_type::send, g).error(), errc::unsupported_value);
  EXPECT_EQ(log->append_sync(record_type::checkpoint, {}).error(), errc::reserved_field);
  // A rejected record consumes no seq.
  EXPECT_EQ(log->append_sync(record_type::send, test::fields("+14155552671"))->seq, 1u);
  log->close();
  EXPECT_EQ(log->append_sync(record_type::send, {}).error(), errc::closed);
}

TEST(EvidenceLog, ChainContinuesAcrossReopen) {
  stopgate::test::temp_dir tmp;
  for (int round = 0; round < 3; ++round) {
    auto log = log::open(test::small_options(tmp.path())).value();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append_sync(record_type::optout, test::fields("+14155552671")));
  }
  auto r = verify_directory(tmp.path(), "test-hmac-key-0123456789").value();
  EXPECT_FALSE(r.failure) << r.failure->describe();
  EXPECT_EQ(r.uncovered, 0u);
}

TEST(EvidenceLog, TimedCheckpointUsesInjectedClock) {
  stopgate::test::temp_dir tmp;
  manual_clock clock;
  auto opts = test::small_options(tmp.path());
  opts.checkpoint_every = 1000;
  opts.checkpoint_interval = 60s;
  auto log = log::open(opts, clock.hooks()).value();
  ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
  clock.advance(61s);
  ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
  const auto lines = test::split_lines(test::read_all(test::segments(tmp.path())[0].path));
  ASSERT_EQ(lines.size(), 3u);
  // The writer's idle tick may write the due checkpoint before or after the second record;
  // either way exactly one checkpoint follows the first record.
  EXPECT_EQ(boost::json::parse(lines[0]).at("type"), "send");
  const bool second = boost::json::parse(lines[1]).at("type") == "checkpoint";
  const bool third = boost::json::parse(lines[2]).at("type") == "checkpoint";
  EXPECT_TRUE(second != third) << lines[1] << "\n" << lines[2];
}

TEST(EvidenceLog, RollsBySizeAndByUtcDay) {
  stopgate::test::temp_dir tmp;
  manual_clock clock("2026-11-29T23:59:59Z");
  auto opts = test::small_options(tmp.path());
  opts.segment_max_bytes = 4096;
  {
    auto log = log::open(opts, clock.hooks()).value();
    for (int i = 0; i < 40; ++i)
      ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
    clock.advance(2s);  // next UTC day
    ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
  }
  const auto segs = test::segments(tmp.path());
  ASSERT_GE(segs.size(), 3u);
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    EXPECT_EQ(segs[i].name.yyyymmdd, 20261129);
    EXPECT_LE(std::filesystem::file_size(segs[i].path), 4096u);
    EXPECT_EQ(segs[i].name.number, i + 1);
  }
  EXPECT_EQ(segs.back().name.yyyymmdd, 20261130);
  EXPECT_EQ(segs.back().path.filename().string(),
            "gw1-20261130-" + std::string(6 - std::to_string(segs.size()).size(), '0') +
                std::to_string(segs.size()) + ".jsonl");
  auto r = verify_directory(tmp.path(), opts.hmac_key).value();
  EXPECT_FALSE(r.failure) << r.failure->describe();
  EXPECT_EQ(r.segments, segs.size());
}

TEST(EvidenceLog, RecoversTornTailAndRecordsWhatWasCut) {
  stopgate::test::temp_dir tmp;
  const auto opts = test::small_options(tmp.path());
  {
    auto log = log::open(opts).value();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
  }
  const auto seg = test::segments(tmp.path())[0].path;
  const std::string good = test::read_all(seg);
  // A crash mid-write: half of a record, no newline.
  const std::string torn = test::split_lines(good)[0].substr(0, 70);
  test::write_all(seg, good + torn);
  EXPECT_TRUE(verify_directory(tmp.path(), opts.hmac_key)->failure);  // verify reports it

  open_report rep;
  auto log = log::open(opts, {}, &rep);
  ASSERT_TRUE(log) << log.error().message();
  EXPECT_TRUE(rep.recovered);
  EXPECT_EQ(rep.cut_bytes, torn.size());
  auto a = (*log)->append_sync(record_type::send, test::fields("+14155552671"));
  ASSERT_TRUE(a);
  (*log)->close();
  const auto lines = test::split_lines(test::read_all(seg));
  const auto rec = boost::json::parse(lines[test::split_lines(good).size()]);
  EXPECT_EQ(rec.at("type"), "recovered");
  EXPECT_EQ(rec.at("cut_bytes").to_number<std::uint64_t>(), torn.size());
  EXPECT_EQ(rec.at("offset").to_number<std::uint64_t>(), good.size());
  EXPECT_EQ(rec.at("cut_sha256"), boost::json::value(to_hex(sha256::of(torn))));
  EXPECT_EQ(test::read_all(tmp.path() / rec.at("saved_as").as_string().c_str()), torn);
  auto r = verify_directory(tmp.path(), opts.hmac_key).value();
  EXPECT_FALSE(r.failure) << r.failure->describe();
}

TEST(EvidenceLog, RecoversZeroFilledTail) {
  stopgate::test::temp_dir tmp;
  const auto opts = test::small_options(tmp.path());
  { ASSERT_TRUE(log::open(opts).value()->append_sync(record_type::send, test::fields("+14155552671"))); }
  const auto seg = test::segments(tmp.path())[0].path;
  test::write_all(seg, test::read_all(seg) + std::string(300, '\0') + "\n" + std::string(20, '\0'));
  open_report rep;
  ASSERT_TRUE(log::open(opts, {}, &rep));
  EXPECT_EQ(rep.cut_bytes, 321u);
}

TEST(EvidenceLog, OpenRefusesBrokenChainAndNamesTheRecord) {
  stopgate::test::temp_dir tmp;
  const auto opts = test::small_options(tmp.path());
  {
    auto log = log::open(opts).value();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
  }
  const auto seg = test::segments(tmp.path())[0].path;
  auto lines = test::split_lines(test::read_all(seg));
  lines[1].replace(lines[1].find("\"note\":\"x\""), 10, "\"note\":\"y\"");
  test::write_all(seg, test::join_lines(lines));
  open_report rep;
  auto log = log::open(opts, {}, &rep);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error(), errc::chain_broken);
  ASSERT_TRUE(rep.failure);
  EXPECT_EQ(rep.failure->line, 2u);
  EXPECT_EQ(rep.failure->seq, 2u);
  EXPECT_NE(rep.failure->describe().find("gw1-20"), std::string::npos);
}

TEST(EvidenceLog, RetentionDeletesOldSegmentsAndVerifyAcceptsTheAnchor) {
  stopgate::test::temp_dir tmp;
  manual_clock clock("2026-01-01T12:00:00Z");
  auto opts = test::small_options(tmp.path());
  opts.retention_days = 30;
  {
    auto log = log::open(opts, clock.hooks()).value();
    for (int day = 0; day < 3; ++day) {
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
      clock.advance(24h);
    }
    clock.advance(24h * 29 - 1h);  // days 0 and 1 are now older than 30 days; day 2 is not
    ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
    auto rep = log->apply_retention().value();
    ASSERT_EQ(rep.deleted.size(), 2u);
    EXPECT_EQ(rep.deleted[0], "gw1-20260101-000001.jsonl");
    EXPECT_EQ(rep.deleted[1], "gw1-20260102-000002.jsonl");
  }
  EXPECT_EQ(test::segments(tmp.path()).size(), 2u);
  auto r = verify_directory(tmp.path(), opts.hmac_key).value();
  EXPECT_FALSE(r.failure) << r.failure->describe();
  EXPECT_TRUE(r.anchored_by_retention);
  // The log still opens and continues after the deleted prefix.
  EXPECT_TRUE(log::open(opts, clock.hooks()));
}

TEST(EvidenceLog, VerifyRejectsADeletedPrefixWithoutRetentionRecord) {
  stopgate::test::temp_dir tmp;
  manual_clock clock("2026-01-01T12:00:00Z");
  const auto opts = test::small_options(tmp.path());
  {
    auto log = log::open(opts, clock.hooks()).value();
    ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
    clock.advance(24h);
    ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+14155552671")));
  }
  std::filesystem::remove(test::segments(tmp.path())[0].path);
  auto r = verify_directory(tmp.path(), opts.hmac_key).value();
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, errc::missing_anchor);
}

TEST(EvidenceLog, EncryptsBodiesVerifiesWithoutKeyAndDecryptsOnExport) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.encryption_key = std::string(32, 'k');
  {
    auto log = log::open(opts).value();
    auto f = test::fields("+14155552671");
    f["body"] = "Your code is 1234";
    f["consent"] = boost::json::object{{"text", "I agree to receive texts"}};
    ASSERT_TRUE(log->append_sync(record_type::send, f));
  }
  const std::string raw = test::read_all(test::segments(tmp.path())[0].path);
  // Whole plaintexts (with spaces, which hex digests and base64 never hold): a bare "1234"
  // turns up in hashes and ciphertext by chance.
  EXPECT_EQ(raw.find("Your code is 1234"), std::string::npos);
  EXPECT_EQ(raw.find("I agree to receive texts"), std::string::npos);
  EXPECT_NE(raw.find("\"enc\":\"aes-256-gcm\""), std::string::npos);
  // The hash covers the ciphertext: the chain verifies with no key at all.
  auto r = verify_directory(tmp.path(), "").value();
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(r.checkpoints_checked, 0u);

  aes_gcm cipher(opts.encryption_key);
  std::vector<std::string> out;
  export_query q{"+14155552671", std::nullopt, std::nullopt, &cipher, ""};
  ASSERT_TRUE(export_records(tmp.path(), q, [&](std::string_view l) { out.emplace_back(l); }));
  ASSERT_EQ(out.size(), 1u);
  const auto rec = boost::json::parse(out[0]);
  EXPECT_EQ(rec.at("body"), "Your code is 1234");
  EXPECT_EQ(rec.at("consent").at("text"), "I agree to receive texts");

  aes_gcm wrong(std::string(32, 'w'));
  q.decrypt = &wrong;
  EXPECT_EQ(export_records(tmp.path(), q, [](std::string_view) {}).error(), errc::decrypt_failed);
}

TEST(EvidenceExport, ByNumberAndTimeRangeUsingARebuildableIndex) {
  stopgate::test::temp_dir tmp;
  manual_clock clock("2026-11-29T10:00:00Z");
  const auto opts = test::small_options(tmp.path());
  auto log = log::open(opts, clock.hooks()).value();
  const char* numbers[] = {"+14155552671", "+12125551234", "+14155552671"};
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(log->append_sync(record_type::decision, test::fields(numbers[i % 3], std::to_string(i))));
    clock.advance(1h);
  }
  boost::json::object by_number{{"number", "(415) 555-2671"}};
  ASSERT_TRUE(log->append_sync(record_type::optout, by_number));
  auto run = [&](export_query q) {
    std::vector<std::string> notes;
    auto r = export_records(tmp.path(), q, [&](std::string_view l) {
      const auto v = boost::json::parse(l);
      notes.push_back(v.as_object().contains("note") ? std::string(v.at("note").as_string())
                                                     : std::string(v.at("type").as_string()));
    });
    EXPECT_TRUE(r);
    return notes;
  };
  EXPECT_EQ(run({"+14155552671", {}, {}, nullptr, ""}),
            (std::vector<std::string>{"0", "2", "3", "5", "6", "8", "optout"}));
  EXPECT_EQ(run({"+12125551234", {}, {}, nullptr, ""}), (std::vector<std::string>{"1", "4", "7"}));
  // --from inclusive, --until exclusive.
  EXPECT_EQ(run({"+14155552671", parse_ts("2026-11-29T12:00:00Z"), parse_ts("2026-11-29T16:00:00Z"), nullptr, ""}),
            (std::vector<std::string>{"2", "3", "5"}));
  const auto idx = test::segments(tmp.path())[0].path.string() + ".idx";
  EXPECT_TRUE(std::filesystem::exists(idx));
  // More records make the index stale; export rebuilds it and sees them.
  ASSERT_TRUE(log->append_sync(record_type::send, test::fields("+12125551234", "new")));
  EXPECT_EQ(run({"+12125551234", {}, {}, nullptr, ""}), (std::vector<std::string>{"1", "4", "7", "new"}));
  EXPECT_EQ(reindex(tmp.path()).value(), 1u);
}

TEST(EvidenceExport, ByMessageIdAloneOrWithItsNumber) {
  stopgate::test::temp_dir tmp;
  manual_clock clock("2026-11-29T10:00:00Z");
  const auto opts = test::small_options(tmp.path());
  auto log = log::open(opts, clock.hooks()).value();
  const std::pair<record_type, const char*> life[] = {{record_type::queued, "msg_a"},
                                                      {record_type::queued, "msg_b"},
                                                      {record_type::released, "msg_a"},
                                                      {record_type::cancelled, "msg_b"},
                                                      {record_type::carrier_result, "msg_a"},
                                                      {record_type::status, "msg_ab"}};
  for (auto& [type, id] : life) {
    boost::json::object f{{"to", "+14155552671"}, {"message_id", id}};
    ASSERT_TRUE(log->append_sync(type, f));
    clock.advance(1min);
  }
  auto run = [&](export_query q) {
    std::vector<std::string> types;
    auto r = export_records(tmp.path(), q, [&](std::string_view l) {
      types.emplace_back(boost::json::parse(l).at("type").as_string());
    });
    EXPECT_TRUE(r);
    return types;
  };
  const std::vector<std::string> a{"queued", "released", "carrier_result"};
  EXPECT_EQ(run({"", {}, {}, nullptr, "msg_a"}), a) << "a longer id containing it is not it";
  EXPECT_EQ(run({"+14155552671", {}, {}, nullptr, "msg_a"}), a);
  EXPECT_EQ(run({"", {}, {}, nullptr, "msg_b"}), (std::vector<std::string>{"queued", "cancelled"}));
  EXPECT_TRUE(run({"+12125551234", {}, {}, nullptr, "msg_a"}).empty());
  EXPECT_FALSE(export_records(tmp.path(), export_query{}, [](std::string_view) {}));
}

}  // namespace
}  // namespace stopgate::evidence
