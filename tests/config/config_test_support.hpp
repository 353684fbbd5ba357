// Helpers shared by the config tests: a minimal valid file and an injected environment.
#pragma once

#include "config/load.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace stopgate::config::test {

/// A small valid configuration that tests extend with more tables.
inline const std::string k_minimal = R"(
[carriers.sandbox]
type = "sandbox"
[senders.acme]
numbers = ["+14155552671"]
route = ["sandbox"]
)";

/// Load options with a fixed environment (STOPGATE_EVIDENCE_KEY set) and working directory.
inline load_options options_with(std::map<std::string, std::string> env = {},
                                 std::filesystem::path cwd = "/srv/stopgate") {
  env.emplace("STOPGATE_EVIDENCE_KEY", std::string(40, 'k'));
  load_options o;
  o.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  o.cwd = std::move(cwd);
  return o;
}

/// Loads text that must be valid.
inline settings_ptr load_ok(const std::string& text, const load_options& o = options_with()) {
  load_result r = load_string(text, "test.toml", o);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

/// Loads text that must be invalid and returns its report.
inline std::string load_bad(const std::string& text, const load_options& o = options_with()) {
  load_result r = load_string(text, "test.toml", o);
  EXPECT_FALSE(r.has_value());
  return r ? std::string() : r.error().to_string();
}

}  // namespace stopgate::config::test
