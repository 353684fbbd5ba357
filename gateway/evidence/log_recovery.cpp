// log::recover (start-up check of the newest segment, torn-tail cut-off) and
// log::apply_retention (deleting expired segments, each deletion recorded first).
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/log.hpp"
#include "gateway/evidence/segment.hpp"

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace stopgate::evidence {

namespace {

boost::system::error_code last_errno() { return {errno, boost::system::system_category()}; }

bool all_nul(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
}

// seq, hash and ts of a record line whose own hash holds.
struct record_head {
  std::uint64_t seq = 0;
  std::string hash;
  std::string ts;
};

std::optional<record_head> read_head(std::string_view line) {
  const auto stored = stored_hash(line);
  if (stored.empty()) return std::nullopt;
  sha256 h;
  if (to_hex(line_hash(h, line)) != stored) return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* seq = o.if_contains("seq");
  const auto* ts = o.if_contains("ts");
  if (seq == nullptr || !seq->is_number() || ts == nullptr || !ts->is_string())
    return std::nullopt;
  boost::system::error_code cec;
  const auto s = seq->to_number<std::uint64_t>(cec);
  if (cec) return std::nullopt;
  return record_head{s, std::string(stored), std::string(ts->get_string())};
}

}  // namespace

boost::system::error_code log::recover(open_report& report) {
  auto segments = list_segments(opts_.dir, opts_.instance);
  if (!segments) return segments.error();
  last_checkpoint_ = now();
  if (segments->empty()) return {};

  const segment_file& last = segments->back();
  const std::string file = last.path.filename().string();
  chain_checker checker(opts_.hmac_key);
  if (segments->size() >= 2) {
    // Continue the chain from the newest record of the segment before.
    const auto& before = (*segments)[segments->size() - 2];
    auto line = read_last_line(before.path, opts_.max_record_bytes);
    if (!line) return line.error();
    const auto head = *line ? read_head(**line) : std::nullopt;
    if (!head) {
      report.failure = problem{make_error_code(errc::chain_broken),
                               before.path.filename().string(), 0, 0, std::nullopt,
                               "the last record of the segment before " + file +
                                   " is missing or fails its hash check"};
      return report.failure->code;
    }
    checker.start_after(head->seq, head->hash);
  }

  // Walk the newest segment completely; a bad line is only acceptable as a torn tail.
  std::optional<std::uint64_t> cut_from;
  std::uint64_t line_no = 0;
  auto ec = for_each_line(
      last.path, opts_.max_record_bytes,
      [&](std::string_view line, std::uint64_t off) {
        ++line_no;
        // Zeros where a crash extended the file but never wrote the data.
        if (all_nul(line)) {
          if (!cut_from) cut_from = off;
          return true;
        }
        if (cut_from) {
          report.failure = problem{make_error_code(errc::bad_record), file, line_no, off,
                                   std::nullopt, "data after a zero-filled region"};
          return false;
        }
        report.failure = checker.check(line, opts_.instance, file, line_no, off);
        return !report.failure;
      },
      [&](std::string_view, std::uint64_t off) {
        if (!cut_from) cut_from = off;
      });
  if (ec) return ec;
  if (report.failure) return report.failure->code;

  fd_ = ::open(last.path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return last_errno();
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return last_errno();
  std::uint64_t size = std::uint64_t(st.st_size);

  boost::json::object recovered;
  if (cut_from) {
    // Keep the cut bytes beside the log for forensics, then cut them off durably.
    const std::uint64_t n = size - *cut_from;
    std::string cut(n, '\0');
    if (::pread(fd_, cut.data(), n, off_t(*cut_from)) != ssize_t(n)) return last_errno();
    const std::string saved = file + ".cut-" + std::to_string(*cut_from);
    const auto saved_path = opts_.dir / saved;
    const int sfd = ::open(saved_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (sfd < 0) return last_errno();
    const bool ok = ::write(sfd, cut.data(), n) == ssize_t(n) && ::fsync(sfd) == 0;
    ::close(sfd);
    if (!ok) return last_errno();
    if (::ftruncate(fd_, off_t(*cut_from)) != 0 || ::fsync(fd_) != 0) return last_errno();
    if (auto dec = sync_directory(opts_.dir)) return dec;
    recovered["segment"] = file;
    recovered["offset"] = *cut_from;
    recovered["cut_bytes"] = n;
    recovered["cut_sha256"] = to_hex(sha256::of(cut));
    recovered["saved_as"] = saved;
    report.recovered = true;
    report.cut_bytes = n;
    size = *cut_from;
  }

  if (checker.last_seq() > 0 || !checker.last_hash().empty()) {
    seq_ = checker.last_seq();
    prev_ = checker.last_hash();
  }
  durable_seq_.store(seq_, std::memory_order_release);
  since_checkpoint_ = checker.uncovered();
  segment_bytes_ = size;
  segment_day_ = last.name.yyyymmdd;
  segment_number_ = last.name.number;
  current_segment_ = file;

  if (cut_from) {
    if (auto io = add_internal(record_type::recovered, recovered)) return io;
    if (auto io = flush()) return io;
  }
  return {};
}

boost::system::result<retention_report> log::apply_retention() {
  retention_report report;
  auto segments = list_segments(opts_.dir, opts_.instance);
  if (!segments) return segments.error();
  std::string current;
  {
    std::lock_guard lk(mu_);
    current = current_segment_;
  }
  const time_point cutoff = now() - std::chrono::days(opts_.retention_days);
  for (const auto& seg : *segments) {
    const std::string file = seg.path.filename().string();
    if (file == current) break;
    auto last = read_last_line(seg.path, opts_.max_record_bytes);
    auto first = read_first_line(seg.path, opts_.max_record_bytes);
    if (!last) return last.error();
    if (!first) return first.error();
    if (!*last || !*first) break;
    const auto last_head = read_head(**last);
    const auto first_head = read_head(**first);
    if (!last_head || !first_head) return make_error_code(errc::chain_broken);
    const auto last_ts = parse_ts(last_head->ts);
    if (!last_ts || *last_ts >= cutoff) break;
    boost::json::object f;
    f["segment"] = file;
    f["first_seq"] = first_head->seq;
    f["last_seq"] = last_head->seq;
    f["last_hash"] = last_head->hash;
    f["last_ts"] = last_head->ts;
    // The deletion is on record (durably) before the file goes.
    sync_waiter w;
    submit(&w, prepare_slot(w.one, record_type::retention, std::move(f), true));
    if (auto r = w.wait(); !r) return r.error();
    std::error_code fec;
    std::filesystem::remove(seg.path, fec);
    if (fec) return boost::system::error_code(fec.value(), boost::system::system_category());
    std::filesystem::remove(seg.path.string() + ".idx", fec);
    if (auto dec = sync_directory(opts_.dir)) return dec;
    report.deleted.push_back(file);
  }
  return report;
}

}  // namespace stopgate::evidence
