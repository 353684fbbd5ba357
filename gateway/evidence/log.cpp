#include "gateway/evidence/log.hpp"

#include "gateway/evidence/error.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace stopgate::evidence {

namespace {

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

log_counters log::counters() const {
  log_counters c;
  c.records = records_.load(std::memory_order_relaxed);
  c.batches = batches_.load(std::memory_order_relaxed);
  c.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  c.bytes = bytes_.load(std::memory_order_relaxed);
  c.durable_seq = durable_seq_.load(std::memory_order_acquire);
  c.queue_depth = depth_.load(std::memory_order_relaxed);
  c.last_fsync_latency = std::chrono::nanoseconds(last_fsync_ns_.load(std::memory_order_relaxed));
  return c;
}

boost::system::result<appended> log::append_sync(record_type type, boost::json::object fields) {
  sync_waiter w;
  submit(type, std::move(fields), &w);
  return w.wait();
}

void log::submit(record_type type, boost::json::object fields, waiter* w, bool internal) {
  boost::system::error_code reject;
  if (!internal && (type == record_type::checkpoint || type == record_type::recovered ||
                    type == record_type::retention))
    reject = make_error_code(errc::reserved_field);
  for (const auto& kv : fields)
    if (is_reserved_field(kv.key())) reject = make_error_code(errc::reserved_field);
  if (!reject) {
    std::unique_lock lk(mu_);
    if (closed_) {
      reject = make_error_code(errc::closed);
    } else if (failed_) {
      reject = make_error_code(errc::failed);
    } else {
      pending p{type, std::move(fields), w, {}, 0, {}};
      if (queue_.size() < opts_.max_queue)
        queue_.push_back(std::move(p));
      else
        held_.push_back(std::move(p));
      depth_.store(queue_.size() + held_.size(), std::memory_order_relaxed);
      // Under load the writer is busy and will find the queue on its own: no wake-up needed.
      const bool wake = writer_idle_;
      lk.unlock();
      if (wake) cv_.notify_one();
      return;
    }
  }
  w->complete(reject, {});
}

boost::system::error_code log::build_line(record_type type, boost::json::object& fields,
                                          time_point ts, std::uint64_t seq) {
  std::string id = opts_.instance + "-" + std::to_string(seq);
  if (cipher_)
    if (auto ec = encrypt_fields(fields, *cipher_, id)) return ec;
  fields["id"] = std::move(id);
  fields["seq"] = seq;
  fields["ts"] = format_ts(ts);
  fields["type"] = to_string(type);
  fields["prev"] = prev_;
  line_.clear();
  if (!append_canonical(line_, fields)) return make_error_code(errc::unsupported_value);
  if (line_.size() + hash_suffix_size + 1 > opts_.max_record_bytes)
    return make_error_code(errc::too_large);
  sha_.update(line_);
  const std::string hash = to_hex(sha_.finish());
  // The line is the canonical bytes with the hash field added before the closing brace.
  line_.pop_back();
  line_ += ",\"hash\":\"";
  line_ += hash;
  line_ += "\"}\n";
  return {};
}

boost::system::error_code log::add_record(record_type type, boost::json::object fields,
                                          pending* p) {
  const time_point ts = now();
  if (auto ec = build_line(type, fields, ts, seq_ + 1)) {
    // Nothing written and no seq consumed: only this appender hears about it.
    if (p != nullptr) p->ec = ec;
    return {};
  }
  if (fd_ < 0 || utc_yyyymmdd(ts) != segment_day_ ||
      (segment_bytes_ > 0 && segment_bytes_ + line_.size() > opts_.segment_max_bytes))
    if (auto ec = roll(ts)) return ec;
  wbuf_ += line_;
  segment_bytes_ += line_.size();
  ++seq_;
  ++unflushed_records_;
  prev_.assign(line_.data() + line_.size() - 67, 64);
  if (type == record_type::checkpoint) {
    since_checkpoint_ = 0;
    last_checkpoint_ = ts;
  } else {
    ++since_checkpoint_;
  }
  if (p != nullptr) {
    p->seq = seq_;
    p->hash = prev_;
  }
  return {};
}

boost::system::error_code log::add_checkpoint() {
  boost::json::object f;
  f["head_seq"] = seq_;
  f["head_hash"] = prev_;
  f["hmac"] = checkpoint_mac(opts_.hmac_key, seq_, prev_);
  f["key_id"] = buf_key_id_;
  return add_record(record_type::checkpoint, std::move(f), nullptr);
}

boost::system::error_code log::flush() {
  if (wbuf_.empty()) return {};
  if (auto ec = write_all(fd_, wbuf_)) return ec;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = hooks_.fdatasync ? hooks_.fdatasync(fd_) : ::fdatasync(fd_);
  if (rc != 0) return last_errno();
  last_fsync_ns_.store((std::chrono::steady_clock::now() - t0).count(),
                       std::memory_order_relaxed);
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(wbuf_.size(), std::memory_order_relaxed);
  records_.fetch_add(unflushed_records_, std::memory_order_relaxed);
  unflushed_records_ = 0;
  durable_seq_.store(seq_, std::memory_order_release);
  wbuf_.clear();
  return {};
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
  std::vector<pending> batch;
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
        queue_.push_back(std::move(held_.front()));
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
        if (ec) {
          std::vector<pending> none;
          fail_all(none, 0, 0, ec);
        }
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

void log::write_batch(std::vector<pending>& batch, std::size_t first, std::size_t last) {
  {
    std::lock_guard lk(mu_);
    if (failed_) {
      const auto ec = failed_;
      for (std::size_t i = first; i < last; ++i) batch[i].w->complete(ec, {});
      return;
    }
  }
  boost::system::error_code io;
  for (std::size_t i = first; i < last && !io; ++i) {
    io = add_record(batch[i].type, std::move(batch[i].fields), &batch[i]);
    if (!io && since_checkpoint_ >= opts_.checkpoint_every) io = add_checkpoint();
  }
  if (!io && since_checkpoint_ > 0 && now() - last_checkpoint_ >= opts_.checkpoint_interval)
    io = add_checkpoint();
  if (!io) io = flush();
  if (io) {
    fail_all(batch, first, last, io);
    return;
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = first; i < last; ++i) {
    auto& p = batch[i];
    if (p.ec) {
      p.w->complete(p.ec, {});
      continue;
    }
    p.w->complete({}, appended{opts_.instance + "-" + std::to_string(p.seq), p.seq,
                               std::move(p.hash)});
  }
}

void log::fail_all(std::vector<pending>& batch, std::size_t first, std::size_t last,
                   boost::system::error_code ec) {
  // After a failed write or fdatasync the file's state is unknown: refuse everything from now
  // on; the next open() checks the tail and cuts off what was not completely written.
  std::vector<pending> queued;
  std::deque<pending> held;
  {
    std::lock_guard lk(mu_);
    failed_ = ec;
    queued.swap(queue_);
    held.swap(held_);
    depth_.store(0, std::memory_order_relaxed);
  }
  for (std::size_t i = first; i < last; ++i) batch[i].w->complete(ec, {});
  for (auto& p : queued) p.w->complete(ec, {});
  for (auto& p : held) p.w->complete(ec, {});
  wbuf_.clear();
  unflushed_records_ = 0;
}

}  // namespace stopgate::evidence
