#include "gateway/evidence/log.hpp"

#include "gateway/evidence/error.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace stopgate::evidence {

namespace {

// The writer thread posts completions with an executor that does not count as work: the
// waiter's own tracked executor keeps the worker's io_context running until the completion
// ran, and once it has, the worker may stop and free its io_context at once (a test bed's
// teardown does). A tracked copy destroyed on the writer thread after the post would then
// touch a freed io_context.
boost::asio::any_io_executor post_executor(const boost::asio::any_io_executor& ex) {
  return boost::asio::prefer(ex, boost::asio::execution::outstanding_work.untracked);
}

boost::system::error_code last_errno() { return {errno, boost::system::system_category()}; }

boost::system::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    data.remove_prefix(std::size_t(n));
  }
  return {};
}

}  // namespace

log::log(options opts, log_hooks hooks) : opts_(std::move(opts)), hooks_(std::move(hooks)) {
  if (!opts_.encryption_key.empty()) cipher_ = std::make_unique<aes_gcm>(opts_.encryption_key);
  prev_ = std::string(genesis_hash);
  buf_key_id_ = key_id(opts_.hmac_key);
  queue_.reserve(opts_.max_queue);
  wbuf_.reserve(std::size_t(1) << 20);
}

log::~log() { close(); }

time_point log::now() const {
  if (hooks_.clock) return hooks_.clock();
  return std::chrono::floor<std::chrono::microseconds>(clock_type::now());
}

boost::system::result<std::unique_ptr<log>> log::open(options opts, log_hooks hooks,
                                                      open_report* report) {
  open_report local;
  open_report& rep = report ? *report : local;
  if (auto ec = opts.check()) return ec;
  std::error_code fec;
  std::filesystem::create_directories(opts.dir, fec);
  if (fec) return boost::system::error_code(fec.value(), boost::system::system_category());
  std::unique_ptr<log> l(new log(std::move(opts), std::move(hooks)));
  if (auto ec = l->recover(rep)) return ec;
  rep.last_seq = l->seq_;
  l->writer_ = std::thread([p = l.get()] { p->run_writer(); });
  return l;
}

void log::close() {
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    closed_ = stopping_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

boost::system::error_code log::failure() const {
  std::lock_guard lk(mu_);
  return failed_;
}

log_counters log::counters() const {
  log_counters c;
  c.records = records_.load(std::memory_order_relaxed);
  c.batches = batches_.load(std::memory_order_relaxed);
  c.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  c.bytes = bytes_.load(std::memory_order_relaxed);
  c.durable_seq = durable_seq_.load(std::memory_order_acquire);
  c.queue_depth = depth_.load(std::memory_order_relaxed);
  c.last_fsync_latency = std::chrono::nanoseconds(last_fsync_ns_.load(std::memory_order_relaxed));
  for (std::size_t i = 0; i < c.fsync_buckets.size(); ++i)
    c.fsync_buckets[i] = fsync_buckets_[i].load(std::memory_order_relaxed);
  c.fsync_total = std::chrono::nanoseconds(fsync_total_ns_.load(std::memory_order_relaxed));
  return c;
}

boost::system::result<appended> log::append_sync(record_type type, boost::json::object fields) {
  sync_waiter w;
  submit(&w, prepare_slot(w.one, type, std::move(fields), false));
  return w.wait();
}

boost::system::error_code log::prepare_slot(slot& s, record_type type,
                                            boost::json::object fields, bool internal) const {
  s.type = type;
  if (!internal && (type == record_type::checkpoint || type == record_type::recovered ||
                    type == record_type::retention))
    return make_error_code(errc::reserved_field);
  if (cipher_ || !s.id_field.empty()) {
    // Sealing needs the record id (the AES-GCM additional data), and a reference needs the
    // id of another record: both are known only to the writer.
    for (const auto& kv : fields)
      if (is_reserved_field(kv.key())) return make_error_code(errc::reserved_field);
    if (is_reserved_field(s.id_field)) return make_error_code(errc::reserved_field);
    s.raw = std::move(fields);
    s.raw_pending = true;
    return {};
  }
  // Serialise on the appender's thread: the writer only splices in seq/id/ts/prev/type.
  return prepare_fields(fields, s.fields);
}

void log::submit_batch(std::span<batch_record> records, waiter* w) {
  boost::system::error_code reject;
  if (records.empty() || records.size() > max_batch_records)
    reject = make_error_code(errc::bad_batch);
  w->count = std::min(records.size(), max_batch_records);
  for (std::size_t i = 0; i < records.size() && !reject; ++i) {
    slot& s = w->slots[i];
    s.id_field = records[i].id_field;
    s.id_of = records[i].id_of;
    if (!s.id_field.empty() && s.id_of >= i) reject = make_error_code(errc::bad_batch);
    if (!reject) reject = prepare_slot(s, records[i].type, std::move(records[i].fields), false);
  }
  submit(w, reject);
}

void log::submit(waiter* w, boost::system::error_code reject) {
  if (!reject) {
    std::unique_lock lk(mu_);
    if (closed_) {
      reject = make_error_code(errc::closed);
    } else if (failed_) {
      reject = make_error_code(errc::failed);
    } else {
      if (queue_.size() < opts_.max_queue)
        queue_.push_back(w);
      else
        held_.push_back(w);
      depth_.store(queue_.size() + held_.size(), std::memory_order_relaxed);
      // Under load the writer is busy and will find the queue on its own: no wake-up needed.
      const bool wake = writer_idle_;
      lk.unlock();
      if (wake) cv_.notify_one();
      return;
    }
  }
  w->ec = reject;
  complete_one(w);
}

std::size_t log::format_id(char* out, std::uint64_t seq) const {
  const std::string& inst = opts_.instance;  // at most 64 characters (options::check)
  std::memcpy(out, inst.data(), inst.size());
  out[inst.size()] = '-';
  char* end = std::to_chars(out + inst.size() + 1, out + 88, seq).ptr;
  return std::size_t(end - out);
}

boost::system::error_code log::add_record(waiter& w) {
  // First every record's id, final fields and size, so that a record-level error of any of
  // them leaves the whole append unwritten (and consumes no seq).
  char no_ts[ts_size];
  std::memset(no_ts, '0', ts_size);
  for (std::size_t k = 0; k < w.count; ++k) {
    slot& s = w.slots[k];
    s.id_size = format_id(s.id.data(), seq_ + 1 + k);
    const std::string_view id(s.id.data(), s.id_size);
    boost::system::error_code ec;
    if (s.raw_pending) {
      if (!s.id_field.empty()) {
        const slot& target = w.slots[s.id_of];
        s.raw[s.id_field] = std::string_view(target.id.data(), target.id_size);
      }
      // The record id is the AES-GCM additional data, so sealing waits until seq is known.
      if (cipher_) ec = encrypt_fields(s.raw, *cipher_, id);
      if (!ec) ec = prepare_fields(s.raw, s.fields);
    }
    const record_head head{id, prev_, seq_ + 1 + k, {no_ts, ts_size}, s.type};
    if (!ec && canonical_size(s.fields, head) + hash_suffix_size + 1 > opts_.max_record_bytes)
      ec = make_error_code(errc::too_large);
    if (ec) {
      w.ec = ec;  // nothing written, no seq consumed
      return {};
    }
  }
  for (std::size_t k = 0; k < w.count; ++k) {
    slot& s = w.slots[k];
    if (auto io = add_line(s.type, s.fields, {s.id.data(), s.id_size}, &s)) return io;
  }
  return {};
}

boost::system::error_code log::add_internal(record_type type, const boost::json::object& fields) {
  if (prepare_fields(fields, scratch_)) return {};  // cannot happen: the log's own fields
  const std::size_t n = format_id(scratch_id_.data(), seq_ + 1);
  return add_line(type, scratch_, {scratch_id_.data(), n}, nullptr);
}

boost::system::error_code log::add_line(record_type type, const prepared_fields& f,
                                        std::string_view id, slot* s) {
  const time_point ts = now();
  char ts_text[ts_size];
  write_ts(ts, ts_text);
  const record_head head{id, prev_, seq_ + 1, {ts_text, ts_size}, type};
  const std::size_t canonical = canonical_size(f, head);
  // add_record checked the caller's records; the log's own are small.
  if (canonical + hash_suffix_size + 1 > opts_.max_record_bytes) return {};
  // The line is the canonical bytes with `,"hash":"…"` before the closing brace, and '\n'.
  const std::size_t line_size = canonical + hash_suffix_size;
  if (fd_ < 0 || utc_yyyymmdd(ts) != segment_day_ ||
      (segment_bytes_ > 0 && segment_bytes_ + line_size > opts_.segment_max_bytes))
    if (auto ec = roll(ts)) return ec;
  const std::size_t start = wbuf_.size();
  append_record(wbuf_, f, head);
  sha_.update(std::string_view(wbuf_).substr(start));
  const digest d = sha_.finish();
  wbuf_.back() = ',';
  wbuf_ += "\"hash\":\"";
  append_hex(wbuf_, d);
  wbuf_ += "\"}\n";
  segment_bytes_ += line_size;
  ++seq_;
  ++unflushed_records_;
  prev_.assign(wbuf_.data() + wbuf_.size() - 67, 64);
  if (type == record_type::checkpoint) {
    since_checkpoint_ = 0;
    last_checkpoint_ = ts;
  } else {
    ++since_checkpoint_;
  }
  if (s != nullptr) {
    s->seq = seq_;
    std::memcpy(s->hash.data(), prev_.data(), s->hash.size());
  }
  return {};
}

boost::system::error_code log::add_checkpoint() {
  boost::json::object f;
  f["head_seq"] = seq_;
  f["head_hash"] = prev_;
  f["hmac"] = checkpoint_mac(opts_.hmac_key, seq_, prev_);
  f["key_id"] = buf_key_id_;
  return add_internal(record_type::checkpoint, f);
}

boost::system::error_code log::write_out() {
  if (wbuf_.empty()) return {};
  if (auto ec = write_all(fd_, wbuf_)) return ec;
  unsynced_bytes_ += wbuf_.size();
  wbuf_.clear();
  return {};
}

boost::system::error_code log::sync_out() {
  if (unsynced_bytes_ == 0) return {};
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = hooks_.fdatasync ? hooks_.fdatasync(fd_) : ::fdatasync(fd_);
  if (rc != 0) return last_errno();
  const std::int64_t took = (std::chrono::steady_clock::now() - t0).count();
  last_fsync_ns_.store(took, std::memory_order_relaxed);
  fsync_total_ns_.fetch_add(took, std::memory_order_relaxed);
  const auto& bounds = log_counters::fsync_bucket_bounds;
  std::size_t slot = 0;
  while (slot < bounds.size() && double(took) / 1e9 > bounds[slot]) ++slot;
  fsync_buckets_[slot].fetch_add(1, std::memory_order_relaxed);
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(unsynced_bytes_, std::memory_order_relaxed);
  records_.fetch_add(unflushed_records_, std::memory_order_relaxed);
  unflushed_records_ = 0;
  unsynced_bytes_ = 0;
  durable_seq_.store(seq_, std::memory_order_release);
  return {};
}

boost::system::error_code log::flush() {
  if (auto ec = write_out()) return ec;
  return sync_out();
}

boost::system::error_code log::roll(time_point ts) {
  if (auto ec = flush()) return ec;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  segment_name name{opts_.instance, utc_yyyymmdd(ts), segment_number_ + 1};
  const auto path = opts_.dir / name.file_name();
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return last_errno();
  // The new name must survive a crash as well as the records in it.
  if (auto ec = sync_directory(opts_.dir)) return ec;
  segment_number_ = name.number;
  segment_day_ = name.yyyymmdd;
  segment_bytes_ = 0;
  std::lock_guard lk(mu_);
  current_segment_ = name.file_name();
  return {};
}

void log::run_writer() {
  std::vector<waiter*> batch;
  batch.reserve(opts_.max_queue);
  // Wake up at least this often so a quiet log still gets its timed checkpoint.
  const auto poll = std::min<std::chrono::milliseconds>(opts_.checkpoint_interval,
                                                        std::chrono::seconds(1));
  while (true) {
    {
      std::unique_lock lk(mu_);
      writer_idle_ = true;
      cv_.wait_for(lk, poll, [&] { return !queue_.empty() || stopping_; });
      writer_idle_ = false;
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
      while (!held_.empty() && queue_.size() < opts_.max_queue) {
        queue_.push_back(held_.front());
        held_.pop_front();
      }
      depth_.store(queue_.size() + held_.size(), std::memory_order_relaxed);
    }
    if (batch.empty()) {
      // A quiet period: cover the last records with a timed checkpoint.
      if (since_checkpoint_ > 0 && now() - last_checkpoint_ >= opts_.checkpoint_interval &&
          fd_ >= 0) {
        boost::system::error_code ec = add_checkpoint();
        if (!ec) ec = flush();
        if (ec) fail_all(batch, 0, 0, ec);
      }
      continue;
    }
    for (std::size_t i = 0; i < batch.size(); i += opts_.max_batch)
      write_batch(batch, i, std::min(batch.size(), i + opts_.max_batch));
    batch.clear();
  }
  bool failed;
  {
    std::lock_guard lk(mu_);
    failed = bool(failed_);
  }
  if (!failed && since_checkpoint_ > 0 && fd_ >= 0) {
    if (!add_checkpoint()) flush();
  }
}

void log::write_batch(std::vector<waiter*>& batch, std::size_t first, std::size_t last) {
  boost::system::error_code failed;
  {
    std::lock_guard lk(mu_);
    failed = failed_;
  }
  if (failed) {
    for (std::size_t i = first; i < last; ++i) batch[i]->ec = failed;
    complete_all(batch.data() + first, last - first);
    return;
  }
  boost::system::error_code io;
  for (std::size_t i = first; i < last && !io; ++i) {
    io = add_record(*batch[i]);
    if (!io && since_checkpoint_ >= opts_.checkpoint_every) io = add_checkpoint();
  }
  if (!io && since_checkpoint_ > 0 && now() - last_checkpoint_ >= opts_.checkpoint_interval)
    io = add_checkpoint();
  if (!io) io = write_out();
  if (!io) io = sync_out();
  if (io) {
    fail_all(batch, first, last, io);
    return;
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  complete_all(batch.data() + first, last - first);
}

void log::fail_all(std::vector<waiter*>& batch, std::size_t first, std::size_t last,
                   boost::system::error_code ec) {
  // After a failed write or fdatasync the file's state is unknown: refuse everything from now
  // on; the next open() checks the tail and cuts off what was not completely written.
  std::vector<waiter*> queued;
  std::deque<waiter*> held;
  {
    std::lock_guard lk(mu_);
    failed_ = ec;
    queued.swap(queue_);
    held.swap(held_);
    depth_.store(0, std::memory_order_relaxed);
  }
  queued.insert(queued.begin(), batch.begin() + std::ptrdiff_t(first),
                batch.begin() + std::ptrdiff_t(last));
  queued.insert(queued.end(), held.begin(), held.end());
  for (waiter* w : queued) w->ec = ec;
  complete_all(queued.data(), queued.size());
  wbuf_.clear();
  unflushed_records_ = 0;
  unsynced_bytes_ = 0;
}

void log::complete_all(waiter* const* ws, std::size_t n) {
  // Chain the async waiters per executor: one post per executor per batch, not per record.
  groups_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    waiter* w = ws[i];
    if (!w->ex) {
      w->resume();  // append_sync: wakes the blocked thread
      continue;
    }
    w->next = nullptr;
    auto ex = post_executor(w->ex);
    auto g = std::find_if(groups_.begin(), groups_.end(),
                          [&](const completion_group& c) { return c.ex == ex; });
    if (g == groups_.end()) {
      groups_.push_back({std::move(ex), w, w});
    } else {
      g->tail->next = w;
      g->tail = w;
    }
  }
  for (auto& g : groups_) boost::asio::post(g.ex, [head = g.head] { run_chain(head); });
  if (hooks_.after_completions_posted) hooks_.after_completions_posted();
  groups_.clear();
}

void log::complete_one(waiter* w) {
  if (!w->ex) {
    w->resume();
    return;
  }
  w->next = nullptr;
  boost::asio::post(post_executor(w->ex), [w] { run_chain(w); });
}

void log::run_chain(waiter* head) {
  // If a handler throws, the waiters after it are still resumed (in a fresh post).
  struct rest_guard {
    waiter*& rest;
    ~rest_guard() {
      if (rest == nullptr) return;
      auto ex = rest->ex;
      boost::asio::post(ex, [r = rest] { run_chain(r); });
    }
  };
  waiter* rest = head;
  rest_guard guard{rest};
  while (rest != nullptr) {
    waiter* w = rest;
    rest = w->next;
    w->resume();
  }
}

}  // namespace stopgate::evidence
