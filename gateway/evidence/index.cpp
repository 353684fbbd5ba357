#include "gateway/evidence/index.hpp"

#include "dnc/model/phone_number.hpp"
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/verify.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace stopgate::evidence {

namespace {

constexpr std::string_view index_magic = "stopgate-evidence-index v1";

std::filesystem::path index_path(const segment_file& seg) {
  return seg.path.string() + ".idx";
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }
std::string from_dash(const std::string& s) { return s == "-" ? "" : s; }

std::optional<segment_index> read_index_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string header;
  if (!std::getline(in, header) || header.rfind(index_magic, 0) != 0) return std::nullopt;
  std::istringstream hs(header.substr(index_magic.size()));
  segment_index idx;
  std::string hash, first, last;
  if (!(hs >> idx.segment_bytes >> hash >> first >> last)) return std::nullopt;
  idx.last_hash = from_dash(hash);
  idx.first_ts = from_dash(first);
  idx.last_ts = from_dash(last);
  std::string number;
  std::uint64_t off;
  while (in >> number >> off) idx.entries.emplace_back(std::move(number), off);
  if (!in.eof()) return std::nullopt;
  return idx;
}

bool write_index_file(const std::filesystem::path& p, const segment_index& idx) {
  const auto tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << index_magic << ' ' << idx.segment_bytes << ' ' << or_dash(idx.last_hash) << ' '
        << or_dash(idx.first_ts) << ' ' << or_dash(idx.last_ts) << '\n';
    for (const auto& [n, off] : idx.entries) out << n << ' ' << off << '\n';
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  return !ec;
}

boost::system::result<segment_index> build_index(const segment_file& seg, std::size_t max_line) {
  segment_index idx;
  boost::system::error_code parse_error;
  auto ec = for_each_line(
      seg.path, max_line,
      [&](std::string_view line, std::uint64_t off) {
        boost::system::error_code pec;
        auto v = boost::json::parse(line, pec);
        if (pec || !v.is_object()) {
          parse_error = make_error_code(errc::bad_record);
          return false;
        }
        const auto& o = v.get_object();
        for (auto& n : record_numbers(o)) idx.entries.emplace_back(std::move(n), off);
        if (const auto* ts = o.if_contains("ts"); ts && ts->is_string()) {
          if (idx.first_ts.empty()) idx.first_ts = std::string(ts->get_string());
          idx.last_ts = std::string(ts->get_string());
        }
        idx.last_hash = std::string(stored_hash(line));
        idx.segment_bytes = off + line.size() + 1;
        return true;
      },
      [](std::string_view, std::uint64_t) {});
  if (ec) return ec;
  if (parse_error) return parse_error;
  std::sort(idx.entries.begin(), idx.entries.end());
  idx.entries.erase(std::unique(idx.entries.begin(), idx.entries.end()), idx.entries.end());
  return idx;
}

// The line starting at `offset` (without '\n').
boost::system::result<std::string> read_line_at(int fd, std::uint64_t offset,
                                                std::size_t max_line) {
  std::string line;
  char buf[4096];
  while (line.size() < max_line) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off_t(offset + line.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return boost::system::error_code(errno, boost::system::system_category());
    }
    if (n == 0) break;
    const auto* nl = static_cast<const char*>(std::memchr(buf, '\n', std::size_t(n)));
    if (nl != nullptr) {
      line.append(buf, std::size_t(nl - buf));
      return line;
    }
    line.append(buf, std::size_t(n));
  }
  return make_error_code(errc::bad_record);
}

}  // namespace

std::vector<std::string> record_numbers(const boost::json::object& record) {
  std::vector<std::string> out;
  for (const char* field : {"to", "from", "number"}) {
    const auto* v = record.if_contains(field);
    if (v == nullptr || !v->is_string()) continue;
    auto n = dnc::model::parse_phone(v->get_string());
    if (n) out.push_back(n->e164());
  }
  return out;
}

boost::system::result<segment_index> load_index(const segment_file& seg, std::size_t max_line,
                                                bool write_back, bool* rebuilt) {
  if (rebuilt) *rebuilt = false;
  struct stat st {};
  if (::stat(seg.path.c_str(), &st) != 0)
    return boost::system::error_code(errno, boost::system::system_category());
  if (auto idx = read_index_file(index_path(seg)); idx && idx->segment_bytes == std::uint64_t(st.st_size)) {
    // Same size; the last record must also be the same one (a rewrite can keep the size).
    auto last = read_last_line(seg.path, max_line);
    if (last && *last && stored_hash(**last) == idx->last_hash) return std::move(*idx);
    if (last && !*last && idx->last_hash.empty()) return std::move(*idx);
  }
  auto idx = build_index(seg, max_line);
  if (!idx) return idx.error();
  if (rebuilt) *rebuilt = true;
  if (write_back) write_index_file(index_path(seg), *idx);
  return idx;
}

boost::system::result<export_report> export_records(
    const std::filesystem::path& dir, const export_query& q,
    const std::function<void(std::string_view)>& out, std::size_t max_line) {
  auto segments = list_segments(dir);
  if (!segments) return segments.error();
  if (segments->empty()) return make_error_code(errc::not_found);
  const std::string from = q.from ? format_ts(*q.from) : std::string();
  const std::string until = q.until ? format_ts(*q.until) : std::string();
  export_report report;
  // A record's output: as stored, or with plaintext fields.
  auto emit = [&](boost::json::value& v, std::string_view line) -> boost::system::error_code {
    auto& o = v.get_object();
    if (q.decrypt) {
      const auto* id = o.if_contains("id");
      const std::string rid = id && id->is_string() ? std::string(id->get_string()) : "";
      if (auto dec = decrypt_fields(o, *q.decrypt, rid)) return dec;
      out(boost::json::serialize(v));
    } else {
      out(line);
    }
    ++report.records;
    return {};
  };
  auto wanted = [&](const boost::json::object& o) {
    if (q.message_id.empty()) return true;
    const auto* m = o.if_contains("message_id");
    return m && m->is_string() && m->get_string() == q.message_id;
  };
  if (q.number.empty()) {
    if (q.message_id.empty()) return make_error_code(errc::not_found);
    // By message id alone: read every segment in the range through, in chain order.
    for (const auto& seg : *segments) {
      bool rebuilt = false;
      auto idx = load_index(seg, max_line, true, &rebuilt);
      if (!idx) return idx.error();
      report.indexes_rebuilt += rebuilt;
      if ((!from.empty() && idx->last_ts < from) || (!until.empty() && idx->first_ts >= until))
        continue;
      ++report.segments_scanned;
      boost::system::error_code failure;
      auto ec = for_each_line(
          seg.path, max_line,
          [&](std::string_view line, std::uint64_t) {
            // Cheap test first: most lines do not name the id at all.
            if (line.find(q.message_id) == std::string_view::npos) return true;
            boost::system::error_code pec;
            auto v = boost::json::parse(line, pec);
            if (pec || !v.is_object()) {
              failure = make_error_code(errc::bad_record);
              return false;
            }
            const auto& o = v.get_object();
            const auto* ts = o.if_contains("ts");
            if (!ts || !ts->is_string() || !wanted(o)) return true;
            const std::string_view t = ts->get_string();
            if ((!from.empty() && t < from) || (!until.empty() && t >= until)) return true;
            failure = emit(v, line);
            return !failure;
          },
          [](std::string_view, std::uint64_t) {});
      if (ec) return ec;
      if (failure) return failure;
    }
    return report;
  }
  for (const auto& seg : *segments) {
    bool rebuilt = false;
    auto idx = load_index(seg, max_line, true, &rebuilt);
    if (!idx) return idx.error();
    report.indexes_rebuilt += rebuilt;
    // ts strings have one fixed UTC format, so they compare as text.
    if (idx->entries.empty() || (!from.empty() && idx->last_ts < from) ||
        (!until.empty() && idx->first_ts >= until))
      continue;
    ++report.segments_scanned;
    auto it = std::lower_bound(idx->entries.begin(), idx->entries.end(),
                               std::pair<std::string, std::uint64_t>(q.number, 0));
    if (it == idx->entries.end() || it->first != q.number) continue;
    const int fd = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return boost::system::error_code(errno, boost::system::system_category());
    boost::system::error_code failure;
    for (; it != idx->entries.end() && it->first == q.number && !failure; ++it) {
      auto line = read_line_at(fd, it->second, max_line);
      if (!line) {
        failure = line.error();
        break;
      }
      boost::system::error_code pec;
      auto v = boost::json::parse(*line, pec);
      if (pec || !v.is_object()) {
        failure = make_error_code(errc::bad_record);
        break;
      }
      auto& o = v.get_object();
      const auto* ts = o.if_contains("ts");
      if (ts == nullptr || !ts->is_string() || !wanted(o)) continue;
      const std::string_view t = ts->get_string();
      if ((!from.empty() && t < from) || (!until.empty() && t >= until)) continue;
      failure = emit(v, *line);
    }
    ::close(fd);
    if (failure) return failure;
  }
  return report;
}

boost::system::result<std::uint64_t> reindex(const std::filesystem::path& dir,
                                             std::size_t max_line) {
  auto segments = list_segments(dir);
  if (!segments) return segments.error();
  std::uint64_t n = 0;
  for (const auto& seg : *segments) {
    std::error_code ec;
    std::filesystem::remove(index_path(seg), ec);
    auto idx = load_index(seg, max_line, true);
    if (!idx) return idx.error();
    ++n;
  }
  return n;
}

}  // namespace stopgate::evidence
