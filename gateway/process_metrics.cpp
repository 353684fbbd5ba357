#include "gateway/process_metrics.hpp"

#include "config/version.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace stopgate::gateway {
namespace {

http::metric_family gauge(const char* name, const char* help, double value,
                          http::metric_type type = http::metric_type::gauge) {
  return {name, help, type, {{"", {}, value}}};
}

// The system boot time (btime in /proc/stat), to turn the process's start tick into a time.
double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

void append_process_families(std::vector<http::metric_family>& families) {
  families.push_back({"stopgate_build_info", "The running stopgate's version (value always 1).",
                      http::metric_type::gauge, {{"", {{"version", std::string(stopgate::version())}}, 1}}});
  const double ticks = double(::sysconf(_SC_CLK_TCK));
  const double page = double(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ..."; comm may hold spaces, so read after the last ')'.
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::istringstream f(text.substr(close + 2));
    std::vector<std::string> v;
    for (std::string x; f >> x;) v.push_back(x);
    // Fields from 3 (state) on: utime 14, stime 15, starttime 22, vsize 23, rss 24.
    auto at = [&](int field) { return std::stod(v.at(std::size_t(field - 3))); };
    if (v.size() >= 22) {
      families.push_back(gauge("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                               (at(14) + at(15)) / ticks, http::metric_type::counter));
      families.push_back(gauge("process_start_time_seconds",
                               "Start time of the process since the Unix epoch in seconds.",
                               boot_time_seconds() + at(22) / ticks));
      families.push_back(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", at(23)));
      families.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.", at(24) * page));
    }
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  if (!ec) families.push_back(gauge("process_open_fds", "Number of open file descriptors.", double(fds)));
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    families.push_back(gauge("process_max_fds", "Maximum number of open file descriptors.", double(lim.rlim_cur)));
}

}  // namespace stopgate::gateway
