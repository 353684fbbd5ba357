// async_append_batch: several records as one unit of the group commit — consecutive seqs in
// order, one fdatasync, references to earlier records' ids, all or error
// (gateway/evidence/log.hpp).
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/index.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/evidence/verify.hpp"
#include "tests/gateway/evidence_test_support.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <thread>

namespace stopgate::evidence {
namespace {

using batch_result = boost::system::result<std::vector<appended>>;

// Runs one batch append to completion on a fresh io_context.
batch_result run_batch(log& l, std::span<batch_record> records) {
  boost::asio::io_context ctx;
  batch_result out = make_error_code(errc::closed);
  boost::asio::co_spawn(
      ctx, [&]() -> boost::asio::awaitable<void> { out = co_await l.async_append_batch(records); },
      boost::asio::detached);
  ctx.run();
  return out;
}

// The STOP webhook's pair: an inbound record and an opt-out naming it.
std::array<batch_record, 2> inbound_and_optout(std::string_view body = "STOP") {
  auto in = test::fields("+14155552671");
  in["body"] = body;
  return {
      batch_record{record_type::inbound, std::move(in), {}, 0},
      batch_record{record_type::optout, test::fields("+14155552671"), "inbound_evidence_id", 0}};
}

std::vector<boost::json::object> records_on_disk(const std::filesystem::path& dir) {
  std::vector<boost::json::object> out;
  for (const auto& seg : test::segments(dir))
    for (const auto& l : test::split_lines(test::read_all(seg.path)))
      out.push_back(boost::json::parse(l).as_object());
  return out;
}

TEST(EvidenceBatch, ConsecutiveInOrderInOneFdatasyncWithReferences) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.checkpoint_every = 4;  // a batch of 3 must never be split by a checkpoint
  std::atomic<int> fsyncs{0};
  log_hooks hooks;
  hooks.fdatasync = [&](int fd) {
    ++fsyncs;
    return ::fdatasync(fd);
  };
  auto l = log::open(opts, hooks).value();
  for (int round = 0; round < 5; ++round) {
    std::array<batch_record, 3> b{
        batch_record{record_type::inbound, test::fields("+14155552671", "a"), {}, 0},
        batch_record{record_type::optout, test::fields("+14155552671", "b"), "inbound_evidence_id",
                     0},
        batch_record{record_type::status, test::fields("+14155552671", "c"), "optout_id", 1}};
    const int before = fsyncs.load();
    auto r = run_batch(*l, b);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ(fsyncs.load() - before, 1);  // one group commit for the whole batch
    EXPECT_EQ((*r)[1].seq, (*r)[0].seq + 1);
    EXPECT_EQ((*r)[2].seq, (*r)[1].seq + 1);
    EXPECT_GE(l->durable_seq(), (*r)[2].seq);  // resumed only once all were durable
    for (const auto& a : *r) EXPECT_EQ(a.id, "gw1-" + std::to_string(a.seq));
  }
  l->close();

  const auto recs = records_on_disk(tmp.path());
  int batches_seen = 0;
  for (std::size_t i = 0; i + 2 < recs.size(); ++i) {
    if (recs[i].at("type") != "inbound") continue;
    ++batches_seen;
    // In the order given, adjacent, each naming the id of the one it refers to.
    EXPECT_EQ(recs[i + 1].at("type"), "optout");
    EXPECT_EQ(recs[i + 2].at("type"), "status");
    EXPECT_EQ(recs[i + 1].at("inbound_evidence_id"), recs[i].at("id"));
    EXPECT_EQ(recs[i + 2].at("optout_id"), recs[i + 1].at("id"));
    EXPECT_EQ(recs[i].at("note"), "a");
  }
  EXPECT_EQ(batches_seen, 5);
  auto v = verify_directory(tmp.path(), opts.hmac_key).value();
  EXPECT_FALSE(v.failure) << v.failure->describe();
}

TEST(EvidenceBatch, ARejectedRecordFailsTheWholeBatchAndWritesNothing) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.max_record_bytes = 1024;
  auto l = log::open(opts).value();

  auto floats = inbound_and_optout();
  floats[1].fields["price"] = 0.5;
  EXPECT_EQ(run_batch(*l, floats).error(), errc::unsupported_value);

  auto reserved = inbound_and_optout();
  reserved[0].fields["seq"] = 3;
  EXPECT_EQ(run_batch(*l, reserved).error(), errc::reserved_field);

  // Too large is only known to the writer (after the reference is filled in): the first
  // record fits, the second does not, and neither is written.
  auto large = inbound_and_optout();
  large[1].fields["note"] = std::string(1024, 'x');
  EXPECT_EQ(run_batch(*l, large).error(), errc::too_large);

  std::array<batch_record, max_batch_records + 1> too_many{};
  EXPECT_EQ(run_batch(*l, too_many).error(), errc::bad_batch);
  EXPECT_EQ(run_batch(*l, std::span<batch_record>()).error(), errc::bad_batch);
  auto forward = inbound_and_optout();
  forward[0].id_field = "later";
  forward[0].id_of = 1;
  EXPECT_EQ(run_batch(*l, forward).error(), errc::bad_batch);

  EXPECT_EQ(l->durable_seq(), 0u);
  // Nothing consumed a seq: the next batch starts at 1.
  auto ok = inbound_and_optout();
  auto r = run_batch(*l, ok);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)[0].seq, 1u);
  EXPECT_EQ((*r)[1].seq, 2u);
  l->close();
  const auto recs = records_on_disk(tmp.path());
  ASSERT_GE(recs.size(), 2u);
  EXPECT_EQ(recs[0].at("seq"), 1);
  EXPECT_EQ(recs[0].at("type"), "inbound");
}

TEST(EvidenceBatch, FailedFdatasyncFailsTheBatchAndPoisonsTheLog) {
  stopgate::test::temp_dir tmp;
  log_hooks hooks;
  hooks.fdatasync = [](int) {
    errno = EIO;
    return -1;
  };
  auto l = log::open(test::small_options(tmp.path()), hooks).value();
  EXPECT_FALSE(l->failure());  // /readyz reports the log ready
  auto b = inbound_and_optout();
  EXPECT_EQ(run_batch(*l, b).error(),
            boost::system::error_code(EIO, boost::system::system_category()));
  EXPECT_EQ(l->durable_seq(), 0u);
  // The cause stays visible (/readyz names it) and every later append is refused.
  EXPECT_EQ(l->failure(), boost::system::error_code(EIO, boost::system::system_category()));
  auto again = inbound_and_optout();
  EXPECT_EQ(run_batch(*l, again).error(), errc::failed);
}

TEST(EvidenceBatch, EncryptedBatchSealsBodiesUnderEachRecordsOwnId) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.encryption_key = std::string(32, 'k');
  {
    auto l = log::open(opts).value();
    auto b = inbound_and_optout("STOP please ~4242!");
    auto r = run_batch(*l, b);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ((*r)[1].seq, (*r)[0].seq + 1);
  }
  // The plaintext holds '~', '!' and spaces, none of which hex digests or base64 can contain,
  // so finding it can only mean the body was written in clear (a bare "4242" turns up in
  // hashes and ciphertext by chance).
  EXPECT_EQ(test::read_all(test::segments(tmp.path())[0].path).find("~4242!"), std::string::npos);
  EXPECT_FALSE(verify_directory(tmp.path(), "")->failure);
  aes_gcm cipher(opts.encryption_key);
  // On disk: the inbound body is a sealed value that opens under its own record's id only.
  const auto disk = records_on_disk(tmp.path());
  const auto inbound = std::find_if(disk.begin(), disk.end(),
                                    [](const auto& o) { return o.at("type") == "inbound"; });
  const auto optout = std::find_if(disk.begin(), disk.end(),
                                   [](const auto& o) { return o.at("type") == "optout"; });
  ASSERT_NE(inbound, disk.end());
  ASSERT_NE(optout, disk.end());
  ASSERT_TRUE(inbound->at("body").is_object()) << boost::json::serialize(*inbound);
  EXPECT_EQ(inbound->at("body").at("enc"), "aes-256-gcm");
  EXPECT_FALSE(optout->contains("body"));
  auto opened = *inbound;
  ASSERT_FALSE(decrypt_fields(opened, cipher, opened.at("id").as_string()));
  EXPECT_EQ(opened.at("body"), "STOP please ~4242!");
  auto moved = *inbound;
  EXPECT_EQ(decrypt_fields(moved, cipher, optout->at("id").as_string()), errc::decrypt_failed);
  std::vector<std::string> out;
  export_query q{"+14155552671", std::nullopt, std::nullopt, &cipher, ""};
  ASSERT_TRUE(export_records(tmp.path(), q, [&](std::string_view l) { out.emplace_back(l); }));
  ASSERT_EQ(out.size(), 2u);
  const auto in = boost::json::parse(out[0]).as_object();
  const auto oo = boost::json::parse(out[1]).as_object();
  EXPECT_EQ(in.at("body"), "STOP please ~4242!");
  EXPECT_EQ(oo.at("inbound_evidence_id"), in.at("id"));
}

// Batches and single appends from two threads at once: every batch stays contiguous.
TEST(EvidenceBatch, BatchesStayContiguousAmongConcurrentAppenders) {
  stopgate::test::temp_dir tmp;
  auto opts = test::small_options(tmp.path());
  opts.checkpoint_every = 7;
  opts.max_queue = 32;  // backpressure holds some batches back
  auto l = log::open(opts).value();
  boost::asio::io_context ctx[2];
  std::atomic<int> ok{0}, split{0};
  constexpr int appenders = 400;
  for (int i = 0; i < appenders; ++i) {
    boost::asio::co_spawn(
        ctx[i % 2],
        [&, i]() -> boost::asio::awaitable<void> {
          if (i % 3 == 0) {
            auto r = co_await l->async_append(record_type::decision, test::fields("+14155552671"));
            if (r) ++ok;
            co_return;
          }
          auto b = inbound_and_optout();
          auto r = co_await l->async_append_batch(b);
          if (!r) co_return;
          if ((*r)[1].seq != (*r)[0].seq + 1) ++split;
          ++ok;
        },
        boost::asio::detached);
  }
  std::thread t0([&] { ctx[0].run(); });
  std::thread t1([&] { ctx[1].run(); });
  t0.join();
  t1.join();
  EXPECT_EQ(ok.load(), appenders);
  EXPECT_EQ(split.load(), 0);
  l->close();
  auto v = verify_directory(tmp.path(), opts.hmac_key).value();
  EXPECT_FALSE(v.failure) << v.failure->describe();
  for (const auto& r : records_on_disk(tmp.path())) {
    if (r.contains("inbound_evidence_id")) {
      EXPECT_EQ(
          r.at("inbound_evidence_id"),
          boost::json::value("gw1-" + std::to_string(r.at("seq").to_number<std::uint64_t>() - 1)));
    }
  }
}

}  // namespace
}  // namespace stopgate::evidence
