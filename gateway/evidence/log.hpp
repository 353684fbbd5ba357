// The evidence log writer: one per gateway process. Appenders on any thread hand a record to
// a bounded queue; one dedicated writer thread drains whatever is queued, writes it with one
// write() and makes it durable with one fdatasync() (group commit), then completes every
// appender of the batch on the appender's own executor. The writer thread exists because
// write/fdatasync block and would otherwise stall an io_context for milliseconds.
#pragma once

#include "gateway/evidence/options.hpp"
#include "gateway/evidence/prepared.hpp"
#include "gateway/evidence/record.hpp"
#include "gateway/evidence/verify.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::evidence {

/// What an append returns once the record is durable.
struct appended {
  std::string id;  // "INSTANCE-SEQ": the evidence_id returned to clients
  std::uint64_t seq = 0;
  std::string hash;  // 64 hex digits
};

/// One record of async_append_batch. `fields` is moved from. When `id_field` is not empty,
/// the writer sets that field to the id of the batch's record number `id_of` (an earlier one):
/// ids are known only once the records are in chain order.
struct batch_record {
  record_type type = record_type::status;
  boost::json::object fields;
  std::string_view id_field;  // "" = none; must outlive the call
  std::size_t id_of = 0;      // index of an earlier record of the same batch
};

/// Most records one async_append_batch may carry.
inline constexpr std::size_t max_batch_records = 8;

/// Injection points for tests and benchmarks. Defaults: the system clock, ::fdatasync.
struct log_hooks {
  std::function<time_point()> clock;
  std::function<int(int fd)> fdatasync;
  /// Runs on the writer thread right after it posted a group commit's completions (a test
  /// widens the window in which appenders run on ahead of the writer).
  std::function<void()> after_completions_posted;
};

/// Counters for /metrics. Read at any time from any thread.
struct log_counters {
  std::uint64_t records = 0;  // records written (including checkpoints)
  std::uint64_t batches = 0;
  std::uint64_t fsyncs = 0;
  std::uint64_t bytes = 0;
  std::uint64_t durable_seq = 0;  // every record up to this seq is on disk
  std::size_t queue_depth = 0;    // records waiting (queued and held back by backpressure)
  std::chrono::nanoseconds last_fsync_latency{0};
  /// fdatasync durations: the count of calls that took at most fsync_bucket_bounds[i]
  /// seconds, not cumulative (the last slot counts the slower ones); and their sum.
  static constexpr std::array<double, 14> fsync_bucket_bounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  std::array<std::uint64_t, fsync_bucket_bounds.size() + 1> fsync_buckets{};
  std::chrono::nanoseconds fsync_total{0};
};

/// What open() found and did.
struct open_report {
  std::optional<problem> failure;  // set when open refused: a broken chain (where and why)
  bool recovered = false;          // a torn tail was cut off (a `recovered` record says so)
  std::uint64_t cut_bytes = 0;
  std::uint64_t last_seq = 0;
};

struct retention_report {
  std::vector<std::string> deleted;  // segment file names, oldest first
};

class log {
 public:
  /// Opens (or creates) the log in opts.dir: checks the newest segment completely (and the
  /// link to the one before it), cuts off a torn tail, and starts the writer thread. Fails
  /// with errc::chain_broken / bad_record / checkpoint_mismatch (details in report->failure)
  /// rather than writing on top of a broken chain; errc::bad_options; or an I/O error.
  static boost::system::result<std::unique_ptr<log>> open(options opts, log_hooks hooks = {},
                                                          open_report* report = nullptr);
  /// Writes a final checkpoint and stops the writer (close()).
  ~log();
  log(const log&) = delete;
  log& operator=(const log&) = delete;

  /// Appends a record of `type` with `fields`; resumes (on the calling coroutine's executor,
  /// never inline) once the record is written and fdatasync'ed. Thread-safe: call from any
  /// number of coroutines on any io_contexts. Keeps the io_context busy while waiting.
  /// Errors: errc::reserved_field, unsupported_value (nothing written), closed, failed, or
  /// the write/fdatasync error. Types checkpoint, recovered, retention are the log's own.
  boost::asio::awaitable<boost::system::result<appended>> async_append(
      record_type type, boost::json::object fields);

  /// Appends up to max_batch_records records as one unit: they get consecutive seqs in the
  /// given order, go into the same write and fdatasync (no checkpoint between them), and the
  /// call resumes (like async_append: on the caller's executor, never inline) once all are
  /// durable, with one `appended` per record in order. All or error: a record-level error of
  /// any record (errc::reserved_field, unsupported_value, too_large, or errc::bad_batch for
  /// an empty or oversized batch or a bad id_of) fails the whole batch before anything is
  /// written; closed, failed and I/O errors are those of async_append (after an I/O error
  /// some of the records may be on disk, as a single record may be after a failed fdatasync).
  /// Thread-safe. `records` must stay valid until the call completes (co_await it at once).
  boost::asio::awaitable<boost::system::result<std::vector<appended>>> async_append_batch(
      std::span<batch_record> records);

  /// Blocking variant for tools and tests. Thread-safe. Must not be called from the writer.
  boost::system::result<appended> append_sync(record_type type, boost::json::object fields);

  /// Deletes the oldest segments whose newest record is older than retention_days, oldest
  /// first and only a contiguous prefix, never the segment being written. Each deletion is
  /// first recorded durably as a `retention` record (segment, first/last seq, last hash,
  /// last ts). Blocking (it appends synchronously): call it off the event loop.
  boost::system::result<retention_report> apply_retention();

  /// Drains the queue, writes a checkpoint if records are uncovered, stops the writer thread.
  /// Later appends fail with errc::closed. Idempotent; thread-safe.
  void close();

  /// The write or fdatasync error that stopped the log, or none while it writes. Sticky: the
  /// log refuses every append after one (the next open() checks and repairs the tail).
  boost::system::error_code failure() const;

  log_counters counters() const;
  std::uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  const options& settings() const { return opts_; }

 private:
  // One record of an append in flight. The appender fills type and fields (serialised on its
  // own thread) or raw (sealed and/or given its id_field, then prepared by the writer); the
  // writer fills id, seq and hash.
  struct slot {
    appended result() const {
      return {std::string(id.data(), id_size), seq, std::string(hash.data(), hash.size())};
    }
    record_type type = record_type::status;
    prepared_fields fields;   // canonical own fields
    boost::json::object raw;  // when prepared by the writer (raw_pending)
    bool raw_pending = false;
    std::string_view id_field;  // batch references (see batch_record)
    std::size_t id_of = 0;
    std::uint64_t seq = 0;
    std::array<char, 88> id{};  // INSTANCE (<= 64) '-' SEQ (<= 20 digits)
    std::size_t id_size = 0;
    std::array<char, 64> hash{};
  };
  // One append (one record, or one batch) in flight: the unit of the queue. The writer sets
  // ec or fills the slots, and completes it once the covering fdatasync returned. Chained
  // through `next` so one post per executor completes a whole group commit.
  struct waiter {
    virtual ~waiter() = default;
    // Delivers the outcome: async waiters on their executor (and free themselves), sync
    // waiters wake their blocked thread.
    virtual void resume() = 0;

    slot* slots = nullptr;
    std::size_t count = 0;
    boost::system::error_code ec;
    waiter* next = nullptr;
    boost::asio::any_io_executor ex;  // tracked work; empty for append_sync
  };
  template <class Handler>
  struct async_waiter;
  template <class Handler>
  struct async_batch_waiter;
  struct sync_waiter;
  struct completion_group {
    boost::asio::any_io_executor ex;
    waiter* head;
    waiter* tail;
  };

  log(options opts, log_hooks hooks);
  boost::system::error_code recover(open_report& report);
  // Checks and serialises one caller record into `s` (on the appender's thread).
  boost::system::error_code prepare_slot(slot& s, record_type type, boost::json::object fields,
                                         bool internal) const;
  // Queues `w` (its slots prepared), or completes it with `reject`.
  void submit(waiter* w, boost::system::error_code reject = {});
  void submit_batch(std::span<batch_record> records, waiter* w);
  void run_writer();
  void write_batch(std::vector<waiter*>& batch, std::size_t first, std::size_t last);
  // Adds a caller's records to wbuf_ (rolling the segment first if needed). A record-level
  // error of any of them goes to w.ec before any is added, and consumes no seq; the returned
  // error is an I/O error that fails the log.
  boost::system::error_code add_record(waiter& w);
  // Adds one of the log's own records (checkpoint, recovered).
  boost::system::error_code add_internal(record_type type, const boost::json::object& fields);
  // Splices seq/ts/prev/id into `f`, hashes the line into wbuf_; `s` (may be null) gets
  // seq and hash. A line over max_record_bytes is not added (add_record checked the caller's
  // records before adding any).
  boost::system::error_code add_line(record_type type, const prepared_fields& f,
                                     std::string_view id, slot* s);
  std::size_t format_id(char* out, std::uint64_t seq) const;
  boost::system::error_code add_checkpoint();
  // write_out: wbuf_ into the file; sync_out: fdatasync of what was written; flush: both.
  boost::system::error_code write_out();
  boost::system::error_code sync_out();
  boost::system::error_code flush();
  boost::system::error_code roll(time_point ts);
  void fail_all(std::vector<waiter*>& batch, std::size_t first, std::size_t last,
                boost::system::error_code ec);
  // Writer thread: completes `n` waiters, one post per distinct executor.
  void complete_all(waiter* const* ws, std::size_t n);
  // Any thread: completes one waiter (never inline for async waiters).
  static void complete_one(waiter* w);
  static void run_chain(waiter* head);
  time_point now() const;

  options opts_;
  log_hooks hooks_;

  // Shared between appenders and the writer (mu_).
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<waiter*> queue_;
  std::deque<waiter*> held_;  // appenders beyond max_queue wait here (backpressure)
  bool stopping_ = false;
  bool closed_ = false;
  bool writer_idle_ = false;
  boost::system::error_code failed_;  // sticky after a write/fdatasync error
  std::string current_segment_;       // for apply_retention (never deletes it)

  // Writer-thread state (and open() before the thread starts).
  std::thread writer_;
  std::unique_ptr<aes_gcm> cipher_;  // set before the writer starts, never changed
  std::string wbuf_;                 // the batch being written (capacity reused)
  prepared_fields scratch_;          // the log's own records; encrypted records
  std::array<char, 88> scratch_id_{};
  std::vector<completion_group> groups_;
  std::uint64_t seq_ = 0;
  std::string prev_;  // hash of the last record
  int fd_ = -1;
  std::uint64_t segment_bytes_ = 0;  // bytes on disk + in wbuf_ for the current segment
  int segment_day_ = 0;
  std::uint64_t segment_number_ = 0;
  std::uint64_t since_checkpoint_ = 0;
  std::uint64_t unflushed_records_ = 0;
  std::uint64_t unsynced_bytes_ = 0;  // written, not yet fdatasync'ed
  time_point last_checkpoint_{};
  sha256 sha_;
  std::string buf_key_id_;

  std::atomic<std::uint64_t> records_{0}, batches_{0}, fsyncs_{0}, bytes_{0};
  std::atomic<std::uint64_t> durable_seq_{0};
  std::atomic<std::int64_t> last_fsync_ns_{0};
  std::atomic<std::int64_t> fsync_total_ns_{0};
  std::array<std::atomic<std::uint64_t>, log_counters::fsync_bucket_bounds.size() + 1> fsync_buckets_{};
  std::atomic<std::size_t> depth_{0};
};

template <class Handler>
struct log::async_waiter final : log::waiter {
  explicit async_waiter(Handler h) : handler(std::move(h)) {
    slots = &one;
    count = 1;
    ex = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                             boost::asio::execution::outstanding_work.tracked);
  }
  void resume() override {
    // Runs on `ex`. Free the waiter before the upcall: the coroutine may append again.
    Handler h = std::move(handler);
    const boost::system::error_code e = ec;
    appended a = e ? appended{} : one.result();
    delete this;
    std::move(h)(e, std::move(a));
  }
  slot one;
  Handler handler;
};

template <class Handler>
struct log::async_batch_waiter final : log::waiter {
  explicit async_batch_waiter(Handler h) : handler(std::move(h)) {
    slots = all.data();
    ex = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                             boost::asio::execution::outstanding_work.tracked);
  }
  void resume() override {
    Handler h = std::move(handler);
    const boost::system::error_code e = ec;
    std::vector<appended> a;
    if (!e) {
      a.reserve(count);
      for (std::size_t i = 0; i < count; ++i) a.push_back(all[i].result());
    }
    delete this;
    std::move(h)(e, std::move(a));
  }
  std::array<slot, max_batch_records> all;
  Handler handler;
};

struct log::sync_waiter final : log::waiter {
  sync_waiter() {
    slots = &one;
    count = 1;
  }
  void resume() override {
    std::lock_guard lk(m);
    done = true;
    cv.notify_one();
  }
  boost::system::result<appended> wait() {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return done; });
    if (ec) return ec;
    return one.result();
  }
  slot one;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
};

inline boost::asio::awaitable<boost::system::result<appended>> log::async_append(
    record_type type, boost::json::object fields) {
  auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto [ec, a] = co_await boost::asio::async_initiate<decltype(token),
                                                      void(boost::system::error_code, appended)>(
      [this, type](auto handler, boost::json::object f) {
        auto* w = new async_waiter<decltype(handler)>(std::move(handler));
        const auto reject = prepare_slot(w->one, type, std::move(f), false);
        submit(w, reject);
      },
      token, std::move(fields));
  if (ec) co_return ec;
  co_return std::move(a);
}

inline boost::asio::awaitable<boost::system::result<std::vector<appended>>>
log::async_append_batch(std::span<batch_record> records) {
  auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto [ec, a] = co_await boost::asio::async_initiate<
      decltype(token), void(boost::system::error_code, std::vector<appended>)>(
      [this, records](auto handler) {
        submit_batch(records, new async_batch_waiter<decltype(handler)>(std::move(handler)));
      },
      token);
  if (ec) co_return ec;
  co_return std::move(a);
}

}  // namespace stopgate::evidence
