// OpenSSL 3 EVP wrappers used by the evidence log: SHA-256, HMAC-SHA256, AES-256-GCM, plus
// hex and base64 text forms. Each wrapper owns its OpenSSL context (RAII) and is not
// thread-safe; make one per thread.
#pragma once

#include <boost/system/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;
struct evp_cipher_ctx_st;

namespace stopgate::evidence {

using digest = std::array<unsigned char, 32>;

/// Lowercase hex of bytes.
std::string to_hex(const unsigned char* data, std::size_t n);
inline std::string to_hex(const digest& d) { return to_hex(d.data(), d.size()); }
/// Appends the lowercase hex of `d` (64 digits) to `out`.
void append_hex(std::string& out, const digest& d);
/// Bytes of an even-length hex string (either case); error on anything else.
boost::system::result<std::string> from_hex(std::string_view hex);
/// Standard base64 with padding.
std::string to_base64(std::string_view bytes);
boost::system::result<std::string> from_base64(std::string_view text);

/// Incremental SHA-256 with a reused context (no allocation per digest).
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;

  void reset();
  void update(std::string_view bytes);
  digest finish();

  /// One-shot convenience.
  static digest of(std::string_view bytes);

 private:
  evp_md_ctx_st* ctx_;
};

/// HMAC-SHA256(key, message).
digest hmac_sha256(std::string_view key, std::string_view message);

/// Constant-time equality of two equal-length strings (false if lengths differ).
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

/// AES-256-GCM with a 32-byte key. seal() draws a random 96-bit IV per call.
class aes_gcm {
 public:
  struct sealed {
    std::string iv;   // 12 bytes
    std::string ct;   // same length as the plaintext
    std::string tag;  // 16 bytes
  };

  /// key must be exactly 32 bytes (checked by the caller: options::check()).
  explicit aes_gcm(std::string_view key);
  ~aes_gcm();
  aes_gcm(const aes_gcm&) = delete;
  aes_gcm& operator=(const aes_gcm&) = delete;

  /// Encrypts `plain`, authenticating `aad` too. Fails only if OpenSSL fails.
  boost::system::result<sealed> seal(std::string_view plain, std::string_view aad);
  /// Decrypts; errc::decrypt_failed when the tag does not match (wrong key, altered data).
  boost::system::result<std::string> open(const sealed& s, std::string_view aad);

 private:
  std::string key_;
  evp_cipher_ctx_st* ctx_;
};

}  // namespace stopgate::evidence
