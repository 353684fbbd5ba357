#include "gateway/evidence/verify.hpp"

#include "gateway/evidence/error.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

namespace stopgate::evidence {

namespace {

const boost::json::string* get_string(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

std::optional<std::uint64_t> get_uint(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return std::uint64_t(v->get_int64());
  return std::nullopt;
}

}  // namespace

std::string problem::describe() const {
  std::string s = segment + " line " + std::to_string(line);
  if (seq) s += " (seq " + std::to_string(*seq) + ")";
  s += ": " + what;
  return s;
}

chain_checker::chain_checker(std::string hmac_key) : key_(std::move(hmac_key)) {}

void chain_checker::start_after(std::uint64_t seq, std::string_view hash) {
  started_ = true;
  first_seq_ = seq + 1;
  last_seq_ = seq;
  last_hash_ = std::string(hash);
}

std::optional<problem> chain_checker::check(std::string_view line, std::string_view instance,
                                            std::string_view segment, std::uint64_t line_no,
                                            std::uint64_t offset) {
  auto fail = [&](errc code, std::string what,
                  std::optional<std::uint64_t> seq = std::nullopt) -> std::optional<problem> {
    return problem{make_error_code(code), std::string(segment), line_no, offset, seq,
                   std::move(what)};
  };
  const std::string_view stored = stored_hash(line);
  if (stored.empty())
    return fail(errc::bad_record, "line does not end with a ,\"hash\":\"<64 hex>\"} field");
  const digest computed = line_hash(sha_, line);
  const std::string computed_hex = to_hex(computed);
  // The seq is only worth naming when the record parses; parse before judging the hash.
  unsigned char buf[8192];
  boost::json::monotonic_resource mr(buf, sizeof buf);
  parser_.reset(&mr);
  boost::system::error_code ec;
  parser_.write(line.data(), line.size(), ec);
  if (ec) return fail(errc::bad_record, "not valid JSON (" + ec.message() + ")");
  const boost::json::value v = parser_.release();
  const boost::json::object* o = v.if_object();
  if (o == nullptr) return fail(errc::bad_record, "not a JSON object");
  const auto seq = get_uint(*o, "seq");
  if (!seq) return fail(errc::bad_record, "no unsigned integer \"seq\"");
  if (computed_hex != stored)
    return fail(errc::chain_broken,
                "hash mismatch: stored " + std::string(stored) + ", computed " + computed_hex +
                    " (the record was altered)",
                seq);
  const auto* prev = get_string(*o, "prev");
  const auto* id = get_string(*o, "id");
  const auto* type = get_string(*o, "type");
  const auto* ts = get_string(*o, "ts");
  if (prev == nullptr || prev->size() != 64 || id == nullptr || type == nullptr || ts == nullptr)
    return fail(errc::bad_record, "missing or malformed id, ts, type or prev", seq);
  const auto t = parse_record_type(*type);
  if (!t) return fail(errc::bad_record, "unknown type \"" + std::string(*type) + "\"", seq);
  std::string expected_id = std::string(instance) + "-" + std::to_string(*seq);
  if (*id != expected_id)
    return fail(errc::bad_record,
                "id \"" + std::string(*id) + "\" does not match \"" + expected_id + "\"", seq);

  if (!started_) {
    started_ = true;
    first_seq_ = *seq;
    if (*seq == 1) {
      if (*prev != genesis_hash)
        return fail(errc::chain_broken, "first record's prev is not the genesis hash", seq);
    } else {
      // The prefix was deleted; a later retention record must name exactly this link.
      anchor_needed_ = true;
      anchor_seq_ = *seq - 1;
      anchor_hash_ = std::string(*prev);
      anchor_segment_ = std::string(segment);
    }
  } else {
    if (*seq != last_seq_ + 1)
      return fail(errc::chain_broken,
                  "seq " + std::to_string(*seq) + " where " + std::to_string(last_seq_ + 1) +
                      " was expected (a record is missing, duplicated or out of order)",
                  seq);
    if (*prev != last_hash_)
      return fail(errc::chain_broken,
                  "prev " + std::string(*prev) + " is not the previous record's hash " +
                      last_hash_,
                  seq);
  }

  if (*t == record_type::checkpoint) {
    const auto head_seq = get_uint(*o, "head_seq");
    const auto* head_hash = get_string(*o, "head_hash");
    const auto* mac = get_string(*o, "hmac");
    if (!head_seq || head_hash == nullptr || mac == nullptr)
      return fail(errc::bad_record, "checkpoint without head_seq, head_hash or hmac", seq);
    if (*head_seq + 1 != *seq || *head_hash != *prev)
      return fail(errc::chain_broken, "checkpoint does not name the record before it", seq);
    ++checkpoints_;
    if (!key_.empty()) {
      const std::string expect = checkpoint_mac(key_, *head_seq, *head_hash);
      if (!equal_constant_time(expect, *mac)) {
        const auto* kid = get_string(*o, "key_id");
        std::string why = "checkpoint HMAC does not match under the given key";
        if (kid != nullptr && *kid != key_id(key_))
          why += " (written with key_id " + std::string(*kid) + ", given key has key_id " +
                 key_id(key_) + ")";
        else
          why += " (records before it were altered and re-chained)";
        return fail(errc::checkpoint_mismatch, why, seq);
      }
      ++checkpoints_checked_;
    }
    since_checkpoint_ = 0;
  } else {
    ++since_checkpoint_;
  }
  if (*t == record_type::retention && anchor_needed_ && !anchor_resolved_) {
    const auto last = get_uint(*o, "last_seq");
    const auto* last_hash = get_string(*o, "last_hash");
    if (last && *last == anchor_seq_ && last_hash != nullptr && *last_hash == anchor_hash_)
      anchor_resolved_ = true;
  }

  ++records_;
  last_seq_ = *seq;
  last_hash_ = std::string(stored);
  last_ts_ = std::string(*ts);
  return std::nullopt;
}

std::optional<problem> chain_checker::finish() const {
  if (anchor_needed_ && !anchor_resolved_)
    return problem{make_error_code(errc::missing_anchor), anchor_segment_, 1, 0,
                   anchor_seq_ + 1,
                   "the chain starts at seq " + std::to_string(anchor_seq_ + 1) +
                       " but no retention record names the deleted records up to seq " +
                       std::to_string(anchor_seq_) + " with last_hash " + anchor_hash_};
  return std::nullopt;
}

boost::system::error_code for_each_line(
    const std::filesystem::path& file, std::size_t max_line,
    const std::function<bool(std::string_view, std::uint64_t)>& on_line,
    const std::function<void(std::string_view, std::uint64_t)>& on_tail) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, boost::system::system_category()};
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const std::size_t chunk = 1u << 20;
  std::string buf(chunk + max_line, '\0');
  std::size_t have = 0;       // bytes in buf
  std::uint64_t base = 0;     // file offset of buf[0]
  boost::system::error_code result;
  bool stop = false;
  while (!stop) {
    const ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = {errno, boost::system::system_category()};
      break;
    }
    if (n == 0) {
      if (have > 0) on_tail(std::string_view(buf.data(), have), base);
      break;
    }
    have += std::size_t(n);
    std::size_t start = 0;
    while (true) {
      const void* nl = std::memchr(buf.data() + start, '\n', have - start);
      if (nl == nullptr) break;
      const std::size_t end = std::size_t(static_cast<const char*>(nl) - buf.data());
      if (!on_line(std::string_view(buf.data() + start, end - start), base + start)) {
        stop = true;
        break;
      }
      start = end + 1;
    }
    if (stop) break;
    if (have - start >= max_line) {
      // An over-long line: hand over its first max_line bytes and stop.
      on_line(std::string_view(buf.data() + start, max_line), base + start);
      break;
    }
    std::memmove(buf.data(), buf.data() + start, have - start);
    base += start;
    have -= start;
  }
  ::close(fd);
  return result;
}

boost::system::result<verify_report> verify_directory(const std::filesystem::path& dir,
                                                      const std::string& hmac_key,
                                                      std::size_t max_line) {
  const auto started = std::chrono::steady_clock::now();
  auto segments = list_segments(dir);
  if (!segments) return segments.error();
  if (segments->empty()) return make_error_code(errc::not_found);
  verify_report report;
  std::optional<chain_checker> checker;
  std::string instance;
  auto close_chain = [&]() -> bool {
    if (!checker) return true;
    report.checkpoints += checker->checkpoints();
    report.checkpoints_checked += checker->checkpoints_checked();
    report.uncovered += checker->uncovered();
    report.anchored_by_retention |= checker->anchored_by_retention();
    if (report.instances == 1) report.first_seq = checker->first_seq();
    report.last_seq = checker->last_seq();
    if (auto p = checker->finish()) {
      report.failure = std::move(p);
      return false;
    }
    return true;
  };
  for (std::size_t i = 0; i < segments->size() && !report.failure; ++i) {
    const auto& seg = (*segments)[i];
    if (!checker || seg.name.instance != instance) {
      if (!close_chain()) break;
      checker.emplace(hmac_key);
      instance = seg.name.instance;
      ++report.instances;
    }
    const std::string file = seg.path.filename().string();
    const bool last_of_chain =
        i + 1 == segments->size() || (*segments)[i + 1].name.instance != instance;
    std::uint64_t line_no = 0;
    auto ec = for_each_line(
        seg.path, max_line,
        [&](std::string_view line, std::uint64_t off) {
          ++line_no;
          report.bytes += line.size() + 1;
          if (line.size() >= max_line) {
            report.failure = problem{make_error_code(errc::bad_record), file, line_no, off,
                                     std::nullopt,
                                     "line longer than " + std::to_string(max_line) + " bytes"};
            return false;
          }
          report.failure = checker->check(line, instance, file, line_no, off);
          if (!report.failure) ++report.records;
          return !report.failure;
        },
        [&](std::string_view tail, std::uint64_t off) {
          report.bytes += tail.size();
          report.failure = problem{
              make_error_code(errc::bad_record), file, line_no + 1, off, std::nullopt,
              std::to_string(tail.size()) + " bytes after the last complete record" +
                  (last_of_chain ? " (a torn write; the gateway cuts it off at its next start)"
                                 : " in a segment that is not the last one")};
        });
    if (ec) return ec;
    ++report.segments;
  }
  if (!report.failure) close_chain();
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace stopgate::evidence
