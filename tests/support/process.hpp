// A child process for end-to-end tests: started with arguments and extra environment, its
// output captured to a file, stopped with a signal; killed (SIGKILL) if still running when
// the object goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::test {

class process {
 public:
  process(std::vector<std::string> argv, std::filesystem::path log,
          std::vector<std::string> env = {});
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// Waits for exit; the exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  /// Everything the process wrote to stdout and stderr so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
  std::optional<int> status_;
};

/// Runs a program to completion; returns (exit code, combined output).
std::pair<int, std::string> run_program(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Path of a program built in this tree (e.g. "gateway/stopgate").
std::string built_program(const std::string& rel);

}  // namespace stopgate::test
