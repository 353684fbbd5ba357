// Loading the configuration: TOML text -> checked, immutable settings, or every problem found.
//
// load_string/load_file parse the TOML, read every table into typed values (unknown keys,
// wrong types and out-of-range values become problems naming the key path), resolve env:
// secrets and relative paths, then run the cross-field checks. Nothing stops at the first
// problem: the caller gets all of them, one line each.
#pragma once

#include "config/settings.hpp"

#include <boost/system/result.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stopgate::config {

/// One thing wrong with a configuration.
struct problem {
  std::string path;     // key path, e.g. "carriers.twilio.rate_per_second"; "" for the file
  std::string message;  // what is wrong and what is allowed
  unsigned line = 0;    // 1-based line in the file; 0 if unknown
  /// "carriers.twilio.rate_per_second: must be an integer in 1..100000 (line 12)".
  std::string to_string() const;
};

/// Every problem of a failed load, in file order.
struct problem_list {
  std::vector<problem> items;
  /// One line per problem, '\n'-separated (no trailing newline).
  std::string to_string() const;
};
/// Lets boost::system::result<T, problem_list>::value() throw for a failed load.
[[noreturn]] void throw_exception_from_error(const problem_list& e,
                                             const boost::source_location& loc);

using settings_ptr = std::shared_ptr<const settings>;
using load_result = boost::system::result<settings_ptr, problem_list>;

/// What the loader reads from outside the file. Injected so tests need not touch the
/// process environment or working directory.
struct load_options {
  /// Looks up an environment variable for `env:NAME` secrets (default: ::getenv).
  std::function<std::optional<std::string>(const std::string&)> getenv;
  /// Base for a relative server.data_dir (default: the current directory).
  std::filesystem::path cwd;
  /// Which `env:` secrets the caller needs, by key path ("evidence.hmac_key",
  /// "redis.password", ...); null = all. A secret not needed whose variable is unset is not a
  /// problem: it stays empty and its key path goes to settings::unresolved_secrets. For tools
  /// whose commands use only some secrets (stopgatectl dnc status needs no evidence key).
  std::function<bool(std::string_view key_path)> needs_secret;
};

/// Loads TOML text; `origin` names it in messages and in settings::origin.
/// Thread-safe (no shared state). Never throws for bad input.
load_result load_string(std::string_view text, std::string_view origin,
                        const load_options& options = {});

/// Reads and loads a file. A missing or unreadable file is a problem with an empty path.
load_result load_file(const std::filesystem::path& path, const load_options& options = {});

/// The cross-field rules (routes name carriers, a number has one owner, TLS files readable,
/// listeners distinct, ...). load_* runs it; exposed for settings built in code.
std::vector<problem> check(const settings& s);

/// Warnings for secrets that other users of the machine can read: the configuration file
/// (settings::origin) when it holds secrets inline, and the evidence.hmac_key "file:" key.
/// One line each, naming the file, the keys and what to do. Reads file modes only.
std::vector<std::string> secret_exposure_warnings(const settings& s);

/// The shortest api.max_line_bytes that holds a `check` of `max_batch` numbers: each written as
/// the longest E.164 number in quotes with its comma (19 bytes), plus 1 KiB for the rest of the
/// request. check() refuses an api.max_batch that needs more than api.max_line_bytes.
constexpr std::uint64_t min_line_bytes_for_batch(std::uint32_t max_batch) noexcept {
  return std::uint64_t(max_batch) * 19 + 1024;
}

/// What the gateway runs with no config file (SPEC section 1): managed Redis, one sandbox
/// carrier `sandbox`, one sender `default` routed to it, ports 7600/7601, data in ./var, an
/// internal DNC list, the evidence HMAC key in the file ./var/evidence.key.
/// Always succeeds; paths are resolved against `options.cwd`.
settings_ptr embedded_defaults(const load_options& options = {});

}  // namespace stopgate::config
