#include "gateway/webhooks/carrier_text.hpp"

#include "carriers/signature/crypto.hpp"
#include "dnc/keywords/text_fold.hpp"

namespace stopgate::gateway::webhooks {
namespace {

// Appends `s`, writing each byte outside a well-formed sequence with `bad(byte, out)`.
template <class Bad>
std::string rewrite(std::string_view s, Bad bad) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (std::size_t pos = 0; pos < s.size();) {
    const auto d = dnc::keywords::text_fold::decode_utf8(s, pos);
    if (d.valid)
      out.append(s.substr(pos, d.size));
    else
      bad(static_cast<unsigned char>(s[pos]), out);
    pos += d.valid ? d.size : 1;
  }
  return out;
}

}  // namespace

bool is_utf8(std::string_view s) noexcept {
  for (std::size_t pos = 0; pos < s.size();) {
    const auto d = dnc::keywords::text_fold::decode_utf8(s, pos);
    if (!d.valid) return false;
    pos += d.size;
  }
  return true;
}

std::string utf8_replacing(std::string_view s) {
  return rewrite(s, [](unsigned char, std::string& out) { out += "\xEF\xBF\xBD"; });
}

std::string utf8_from_latin1_bytes(std::string_view s) {
  // Latin-1 byte b is U+00bb: two UTF-8 bytes for 0x80..0xFF (invalid bytes are never ASCII).
  return rewrite(s, [](unsigned char b, std::string& out) {
    out += char(0xC0 | (b >> 6));
    out += char(0x80 | (b & 0x3F));
  });
}

void put_text(boost::json::object& rec, std::string_view key, std::string_view raw) {
  if (is_utf8(raw)) {
    rec[key] = raw;
    return;
  }
  rec[key] = utf8_replacing(raw);
  rec[std::string(key) + "_b64"] = carriers::signature::base64_encode(raw);
}

}  // namespace stopgate::gateway::webhooks
