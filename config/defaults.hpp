// Built-in default tables: keyword lists per language, the default policy (calling windows,
// restricted days, the 2026-2027 holiday calendar, frequency caps), carrier base URLs and the
// text of the embedded default configuration.
#pragma once

#include "config/settings.hpp"

#include <string_view>
#include <vector>

namespace stopgate::config {

/// Languages with built-in keyword lists.
inline constexpr std::string_view k_keyword_languages[] = {"en", "es", "fr"};

/// The built-in keywords of the given languages (SPEC section 6 for en+es+fr).
/// Unknown language tags contribute nothing (the loader rejects them first).
keyword_settings default_keywords(const std::vector<std::string>& languages = {"en", "es", "fr"});

/// The default policy tables (SPEC section 5, rules.md sections 4 and 6).
policy_settings default_policy();

/// Default base_url of a carrier type ("" for http and sandbox).
std::string_view default_base_url(carrier_type t) noexcept;

/// US states, DC and territories, and Canadian provinces and territories: the region codes
/// accepted in policy tables and list names.
bool is_region_code(std::string_view code) noexcept;
bool is_canadian_region(std::string_view code) noexcept;

/// The TOML the gateway loads when it is started without --config.
extern const std::string_view k_embedded_toml;

}  // namespace stopgate::config
