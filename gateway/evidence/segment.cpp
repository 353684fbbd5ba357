#include "gateway/evidence/segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>

namespace stopgate::evidence {

namespace {

boost::system::error_code last_errno() {
  return {errno, boost::system::system_category()};
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string segment_name::file_name() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%08d-%06llu.jsonl", yyyymmdd, (unsigned long long)number);
  return instance + buf;
}

std::optional<segment_name> parse_segment_name(std::string_view f) {
  constexpr std::string_view ext = ".jsonl";
  if (f.size() <= ext.size() || f.substr(f.size() - ext.size()) != ext) return std::nullopt;
  f.remove_suffix(ext.size());
  // Parse from the right: the instance may itself contain '-'.
  const auto dash2 = f.rfind('-');
  if (dash2 == std::string_view::npos || dash2 == 0) return std::nullopt;
  const auto dash1 = f.rfind('-', dash2 - 1);
  if (dash1 == std::string_view::npos || dash1 == 0) return std::nullopt;
  const std::string_view day = f.substr(dash1 + 1, dash2 - dash1 - 1);
  const std::string_view num = f.substr(dash2 + 1);
  if (day.size() != 8 || num.size() < 6 || num.size() > 12) return std::nullopt;
  segment_name n;
  n.instance = std::string(f.substr(0, dash1));
  auto r1 = std::from_chars(day.data(), day.data() + day.size(), n.yyyymmdd);
  auto r2 = std::from_chars(num.data(), num.data() + num.size(), n.number);
  if (r1.ec != std::errc() || r1.ptr != day.data() + day.size() || r2.ec != std::errc() ||
      r2.ptr != num.data() + num.size() || n.number == 0)
    return std::nullopt;
  return n;
}

int utc_yyyymmdd(time_point t) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(t)};
  return int(ymd.year()) * 10000 + int(unsigned(ymd.month())) * 100 + int(unsigned(ymd.day()));
}

boost::system::result<std::vector<segment_file>> list_segments(const std::filesystem::path& dir,
                                                               std::string_view instance) {
  std::error_code ec;
  std::vector<segment_file> out;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return boost::system::error_code(ec.value(), boost::system::system_category());
  for (const auto& e : it) {
    auto n = parse_segment_name(e.path().filename().string());
    if (!n || (!instance.empty() && n->instance != instance)) continue;
    out.push_back({std::move(*n), e.path()});
  }
  std::sort(out.begin(), out.end(), [](const segment_file& a, const segment_file& b) {
    return std::tie(a.name.instance, a.name.number) < std::tie(b.name.instance, b.name.number);
  });
  return out;
}

boost::system::result<std::optional<std::string>> read_first_line(
    const std::filesystem::path& file, std::size_t max_bytes) {
  fd_guard f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return last_errno();
  std::string buf(std::min<std::size_t>(max_bytes, 64 * 1024), '\0');
  std::size_t have = 0;
  while (true) {
    const ssize_t n = ::pread(f.fd, buf.data() + have, buf.size() - have, off_t(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    const auto nl = std::string_view(buf.data() + have, std::size_t(n)).find('\n');
    if (nl != std::string_view::npos) {
      buf.resize(have + nl);
      return std::optional<std::string>(std::move(buf));
    }
    have += std::size_t(n);
    if (n == 0 || have >= max_bytes) return std::optional<std::string>();
    if (have == buf.size()) buf.resize(std::min(max_bytes, buf.size() * 2));
  }
}

boost::system::result<std::optional<std::string>> read_last_line(
    const std::filesystem::path& file, std::size_t max_bytes) {
  fd_guard f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return last_errno();
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return last_errno();
  // Ignore an unterminated tail: only '\n'-terminated lines are records.
  std::size_t end = std::size_t(st.st_size);
  std::size_t window = std::min<std::size_t>(end, 64 * 1024);
  std::string buf;
  while (window > 0) {
    buf.resize(window);
    std::size_t got = 0;
    while (got < window) {
      const ssize_t n = ::pread(f.fd, buf.data() + got, window - got, off_t(end - window + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return last_errno();
      got += std::size_t(n);
    }
    const auto last_nl = buf.rfind('\n');
    if (last_nl == std::string::npos) {
      if (window == end || window >= max_bytes) return std::optional<std::string>();
      window = std::min({end, window * 2, max_bytes});
      continue;
    }
    const auto prev_nl = last_nl == 0 ? std::string::npos : buf.rfind('\n', last_nl - 1);
    if (prev_nl != std::string::npos)
      return std::optional<std::string>(buf.substr(prev_nl + 1, last_nl - prev_nl - 1));
    if (window == end) return std::optional<std::string>(buf.substr(0, last_nl));
    if (window >= max_bytes) return std::optional<std::string>();
    window = std::min({end, window * 2, max_bytes});
  }
  return std::optional<std::string>();
}

boost::system::error_code sync_directory(const std::filesystem::path& dir) {
  fd_guard f{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (f.fd < 0) return last_errno();
  if (::fsync(f.fd) != 0) return last_errno();
  return {};
}

}  // namespace stopgate::evidence
