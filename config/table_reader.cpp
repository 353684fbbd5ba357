#include "config/table_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stopgate::config::detail {
namespace {

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

}  // namespace

unsigned line_of(const toml::node* n) noexcept {
  return n ? unsigned(n->source().begin.line) : 0u;
}

std::string_view type_name(const toml::node& n) noexcept {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

std::string join_alternatives(std::span<const std::string_view> names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

void load_context::add(std::string path, std::string message, const toml::node* at) {
  problems.push_back({std::move(path), std::move(message), line_of(at)});
}

secret load_context::resolve_secret(const std::string& path, const std::string& raw,
                                    const toml::node* at) {
  if (!raw.starts_with("env:")) {
    if (!raw.empty()) inline_secrets.push_back(path);
    return secret::from_inline(raw);
  }
  std::string name = raw.substr(4);
  bool valid_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
  if (!valid_name) {
    add(path, "env: must be followed by a variable name ([A-Za-z0-9_]+)", at);
    return {};
  }
  std::optional<std::string> value = options->getenv(name);
  if ((!value || value->empty()) && options->needs_secret && !options->needs_secret(path)) {
    unresolved_secrets.push_back(path);
    return {};
  }
  if (!value || value->empty()) {
    add(path, fmt::format("environment variable {} is not set (the key says \"{}\")", name, raw),
        at);
    return {};
  }
  return secret::from_env(name, std::move(*value));
}

table_reader::table_reader(const toml::table* table, std::string path, load_context& ctx)
    : table_(table), path_(std::move(path)), ctx_(&ctx) {}

std::string table_reader::key_path(std::string_view key) const {
  std::string k = is_bare_key(key) ? std::string(key) : fmt::format("\"{}\"", key);
  return path_.empty() ? k : path_ + "." + k;
}

const toml::node* table_reader::get(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (!table_) return nullptr;
  return table_->get(key);
}

void table_reader::problem(std::string_view key, std::string message, const toml::node* at) {
  ctx_->add(key_path(key), std::move(message), at);
}

bool table_reader::read(std::string_view key, std::string& out) {
  const toml::node* n = get(key);
  if (!n) return false;
  if (auto s = n->value<std::string>()) {
    out = std::move(*s);
    return true;
  }
  problem(key, fmt::format("must be a string (got {})", type_name(*n)), n);
  return false;
}

bool table_reader::read(std::string_view key, bool& out) {
  const toml::node* n = get(key);
  if (!n) return false;
  if (auto b = n->value_exact<bool>()) {
    out = *b;
    return true;
  }
  problem(key, fmt::format("must be true or false (got {})", type_name(*n)), n);
  return false;
}

bool table_reader::read(std::string_view key, std::vector<std::string>& out) {
  const toml::node* n = get(key);
  if (!n) return false;
  const toml::array* a = n->as_array();
  std::vector<std::string> values;
  bool ok = a != nullptr;
  if (a) {
    for (const toml::node& item : *a) {
      if (auto s = item.value<std::string>())
        values.push_back(std::move(*s));
      else
        ok = false;
    }
  }
  if (!ok) {
    problem(key, "must be an array of strings", n);
    return false;
  }
  out = std::move(values);
  return true;
}

bool table_reader::read_int(std::string_view key, std::uint64_t& out, std::uint64_t lo,
                            std::uint64_t hi) {
  const toml::node* n = get(key);
  if (!n) return false;
  auto v = n->value_exact<std::int64_t>();
  if (!v || *v < 0 || std::uint64_t(*v) < lo || std::uint64_t(*v) > hi) {
    problem(key, fmt::format("must be an integer in {}..{}", lo, hi), n);
    return false;
  }
  out = std::uint64_t(*v);
  return true;
}

bool table_reader::read_secret(std::string_view key, secret& out) {
  std::string raw;
  if (!read(key, raw)) return false;
  if (raw.empty()) {
    out = {};
    return true;
  }
  secret s = ctx_->resolve_secret(key_path(key), raw, get(key));
  if (s.empty()) return false;
  out = std::move(s);
  return true;
}

table_reader table_reader::sub(std::string_view key) {
  const toml::node* n = get(key);
  if (n && !n->is_table()) {
    problem(key, fmt::format("must be a table (got {})", type_name(*n)), n);
    n = nullptr;
  }
  return table_reader(n ? n->as_table() : nullptr, key_path(key), *ctx_);
}

void table_reader::finish() {
  if (!table_) return;
  for (auto&& [k, v] : *table_) {
    std::string_view key = k.str();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::vector<std::string_view> allowed(known_.begin(), known_.end());
    problem(key, "unknown key (allowed: " + join_alternatives(allowed) + ")", &v);
  }
}

}  // namespace stopgate::config::detail
