// Text as carriers send it, which need not be UTF-8 (a stray byte after STOP, a Latin-1
// body): the readings used to classify it, and the form the evidence log accepts that keeps
// the original bytes recoverable. docs/WEBHOOKS.md, "Bodies that are not UTF-8". Pure;
// thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace stopgate::gateway::webhooks {

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view s) noexcept;

/// `s` with every byte that is not part of a well-formed UTF-8 sequence written as U+FFFD.
std::string utf8_replacing(std::string_view s);

/// `s` with every such byte read as Latin-1 (U+0080..U+00FF): a lossless reading, right for
/// a Latin-1 body ("Arr\xEAt" is "Arrêt").
std::string utf8_from_latin1_bytes(std::string_view s);

/// Sets `rec[key]` to the carrier's text `raw`: as it is when it is UTF-8; otherwise the
/// U+FFFD reading, with the original bytes in base64 under `key` + "_b64".
void put_text(boost::json::object& rec, std::string_view key, std::string_view raw);

}  // namespace stopgate::gateway::webhooks
