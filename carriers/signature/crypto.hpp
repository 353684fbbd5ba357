// The crypto primitives the webhook schemes need, wrapped once over OpenSSL 3: digests,
// HMAC, Ed25519, base64/base64url/hex codecs and a constant-time compare.
//
// All functions are pure and thread-safe. Byte strings travel as std::string (raw bytes).
// Decoders return std::nullopt on malformed input; nothing here throws on input data.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::carriers::signature {

enum class digest_alg { md5, sha1, sha256, sha512 };

/// Raw digest bytes of `msg`.
std::string digest(digest_alg alg, std::string_view msg);
/// Raw HMAC bytes of `msg` under `key` (any key length, including empty).
std::string hmac(digest_alg alg, std::string_view key, std::string_view msg);

/// Standard alphabet with '=' padding.
std::string base64_encode(std::string_view raw);
/// Standard alphabet; padding optional but, when present, must be correct. No whitespace.
std::optional<std::string> base64_decode(std::string_view text);
/// URL-safe alphabet without padding (JWT).
std::string base64url_encode(std::string_view raw);
/// URL-safe alphabet, no padding allowed (RFC 7515 section 2).
std::optional<std::string> base64url_decode(std::string_view text);

/// Lower-case hex.
std::string hex_encode(std::string_view raw);
/// Hex digits of either case, even length.
std::optional<std::string> hex_decode(std::string_view text);

/// Equal length and equal bytes; the time taken depends only on the lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

using ed25519_public_key = std::array<unsigned char, 32>;

/// Parses a raw 32-byte key given in base64 (the form Telnyx shows in Mission Control).
std::optional<ed25519_public_key> parse_ed25519_public_key(std::string_view base64);
/// RFC 8032 Ed25519 verification of a 64-byte signature; false on any malformed input.
bool ed25519_verify(const ed25519_public_key& key, std::string_view signature,
                    std::string_view msg) noexcept;
/// Signs with a 32-byte private seed (RFC 8032 secret key). nullopt if the seed is not 32 bytes.
std::optional<std::string> ed25519_sign(std::string_view seed, std::string_view msg);
/// The public key of a 32-byte private seed.
std::optional<ed25519_public_key> ed25519_public_from_seed(std::string_view seed);

}  // namespace stopgate::carriers::signature
