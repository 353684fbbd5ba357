// Internal to the loader: reads one TOML table into typed values, collecting problems that
// name the key path, and reports keys nobody asked for as unknown (with the allowed keys).
#pragma once

#include "config/load.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::config::detail {

/// Shared by every reader of one load.
struct load_context {
  std::vector<problem> problems;
  const load_options* options = nullptr;
  std::vector<std::string> inline_secrets;  // key paths of secrets written in the file
  std::vector<std::string> unresolved_secrets;  // env: secrets not needed and not set

  void add(std::string path, std::string message, const toml::node* at = nullptr);
  /// "env:NAME" -> the variable's value (problem if unset); anything else as is.
  secret resolve_secret(const std::string& path, const std::string& raw, const toml::node* at);
};

template <class E>
using enum_names = std::initializer_list<std::pair<std::string_view, E>>;

/// Lists the names of an enum table for messages: "a, b or c".
std::string join_alternatives(std::span<const std::string_view> names);

class table_reader {
 public:
  /// `table` may be null (the table is absent): every read then leaves the default.
  table_reader(const toml::table* table, std::string path, load_context& ctx);

  bool present() const noexcept { return table_ != nullptr; }
  const toml::table* table() const noexcept { return table_; }
  const std::string& path() const noexcept { return path_; }
  std::string key_path(std::string_view key) const;
  load_context& context() const noexcept { return *ctx_; }

  /// Marks `key` as allowed and returns its node (null if absent).
  const toml::node* get(std::string_view key);
  void problem(std::string_view key, std::string message, const toml::node* at = nullptr);

  // Each read leaves `out` unchanged when the key is absent or wrong, and returns true only
  // when the key was present and valid.
  bool read(std::string_view key, std::string& out);
  bool read(std::string_view key, bool& out);
  bool read(std::string_view key, std::vector<std::string>& out);
  bool read_int(std::string_view key, std::uint64_t& out, std::uint64_t lo, std::uint64_t hi);
  template <class Int>
  bool read_int(std::string_view key, Int& out, std::uint64_t lo, std::uint64_t hi) {
    std::uint64_t v = out;
    if (!read_int(key, v, lo, hi)) return false;
    out = static_cast<Int>(v);
    return true;
  }
  template <class E>
  bool read_enum(std::string_view key, E& out, enum_names<E> names) {
    std::string text;
    const toml::node* n = get(key);
    if (!n) return false;
    std::vector<std::string_view> all;
    for (auto& [name, value] : names) all.push_back(name);
    if (auto s = n->value<std::string>()) {
      for (auto& [name, value] : names)
        if (*s == name) {
          out = value;
          return true;
        }
    }
    problem(key, "must be one of " + join_alternatives(all), n);
    return false;
  }
  /// A secret: inline text or "env:NAME". Absent leaves `out` empty.
  bool read_secret(std::string_view key, secret& out);
  /// A sub-table; absent gives a reader with present() == false. A non-table is a problem.
  table_reader sub(std::string_view key);

  /// Reports every key of the table that no get()/read() asked for.
  void finish();

 private:
  const toml::table* table_;
  std::string path_;
  load_context* ctx_;
  std::vector<std::string> known_;
};

/// Source line of a node (0 if unknown).
unsigned line_of(const toml::node* n) noexcept;
/// "string", "integer", ... for messages.
std::string_view type_name(const toml::node& n) noexcept;

}  // namespace stopgate::config::detail
