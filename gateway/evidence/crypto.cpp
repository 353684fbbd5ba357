#include "gateway/evidence/crypto.hpp"

#include "gateway/evidence/error.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace stopgate::evidence {

namespace {
constexpr char hex_digits[] = "0123456789abcdef";
constexpr char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string to_hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = hex_digits[data[i] >> 4];
    out[2 * i + 1] = hex_digits[data[i] & 15];
  }
  return out;
}

void append_hex(std::string& out, const digest& d) {
  char buf[64];
  for (std::size_t i = 0; i < d.size(); ++i) {
    buf[2 * i] = hex_digits[d[i] >> 4];
    buf[2 * i + 1] = hex_digits[d[i] & 15];
  }
  out.append(buf, sizeof buf);
}

boost::system::result<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return make_error_code(errc::bad_key);
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return make_error_code(errc::bad_key);
    out[i] = char(hi << 4 | lo);
  }
  return out;
}

std::string to_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = unsigned((unsigned char)bytes[i]) << 16 |
                       unsigned((unsigned char)bytes[i + 1]) << 8 | (unsigned char)bytes[i + 2];
    out += b64_digits[v >> 18];
    out += b64_digits[(v >> 12) & 63];
    out += b64_digits[(v >> 6) & 63];
    out += b64_digits[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = unsigned((unsigned char)bytes[i]) << 16;
    if (rest == 2) v |= unsigned((unsigned char)bytes[i + 1]) << 8;
    out += b64_digits[v >> 18];
    out += b64_digits[(v >> 12) & 63];
    out += rest == 2 ? b64_digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

boost::system::result<std::string> from_base64(std::string_view text) {
  if (text.size() % 4 != 0) return make_error_code(errc::bad_record);
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      // Padding is allowed only in the last two places of the last group.
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return make_error_code(errc::bad_record);
      v[k] = b64_value(c);
      if (v[k] < 0) return make_error_code(errc::bad_record);
    }
    const unsigned n = unsigned(v[0]) << 18 | unsigned(v[1]) << 12 | unsigned(v[2]) << 6 | v[3];
    out += char(n >> 16);
    if (pad < 2) out += char((n >> 8) & 255);
    if (pad < 1) out += char(n & 255);
  }
  return out;
}

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
  reset();
}
sha256::~sha256() { EVP_MD_CTX_free(ctx_); }

namespace {
// Fetched once: EVP_sha256() makes every EVP_DigestInit_ex look the algorithm up again in
// the provider tables, which cost more than hashing a whole record.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
}  // namespace

void sha256::reset() {
  if (EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr) != 1)
    throw std::runtime_error("EVP_DigestInit_ex(sha256) failed");
}

void sha256::update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }

digest sha256::finish() {
  digest d{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, d.data(), &n);
  reset();
  return d;
}

digest sha256::of(std::string_view bytes) {
  digest d{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d.data(), &n, sha256_md(), nullptr);
  return d;
}

digest hmac_sha256(std::string_view key, std::string_view message) {
  digest d{};
  std::size_t n = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), d.data(),
            d.size(), &n);
  return d;
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

aes_gcm::aes_gcm(std::string_view key) : key_(key), ctx_(EVP_CIPHER_CTX_new()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
}
aes_gcm::~aes_gcm() {
  OPENSSL_cleanse(key_.data(), key_.size());
  EVP_CIPHER_CTX_free(ctx_);
}

boost::system::result<aes_gcm::sealed> aes_gcm::seal(std::string_view plain,
                                                     std::string_view aad) {
  sealed s;
  s.iv.resize(12);
  s.ct.resize(plain.size());
  s.tag.resize(16);
  const auto io_error = make_error_code(errc::failed);
  auto* key = reinterpret_cast<const unsigned char*>(key_.data());
  auto* iv = reinterpret_cast<unsigned char*>(s.iv.data());
  if (RAND_bytes(iv, 12) != 1) return io_error;
  int n = 0;
  if (EVP_EncryptInit_ex(ctx_, EVP_aes_256_gcm(), nullptr, key, iv) != 1) return io_error;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx_, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        int(aad.size())) != 1)
    return io_error;
  if (EVP_EncryptUpdate(ctx_, reinterpret_cast<unsigned char*>(s.ct.data()), &n,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        int(plain.size())) != 1)
    return io_error;
  if (EVP_EncryptFinal_ex(ctx_, nullptr, &n) != 1) return io_error;
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, 16, s.tag.data()) != 1) return io_error;
  return s;
}

boost::system::result<std::string> aes_gcm::open(const sealed& s, std::string_view aad) {
  const auto bad = make_error_code(errc::decrypt_failed);
  if (s.iv.size() != 12 || s.tag.size() != 16) return bad;
  std::string plain(s.ct.size(), '\0');
  int n = 0;
  auto* key = reinterpret_cast<const unsigned char*>(key_.data());
  if (EVP_DecryptInit_ex(ctx_, EVP_aes_256_gcm(), nullptr, key,
                         reinterpret_cast<const unsigned char*>(s.iv.data())) != 1)
    return bad;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx_, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        int(aad.size())) != 1)
    return bad;
  if (EVP_DecryptUpdate(ctx_, reinterpret_cast<unsigned char*>(plain.data()), &n,
                        reinterpret_cast<const unsigned char*>(s.ct.data()),
                        int(s.ct.size())) != 1)
    return bad;
  std::string tag = s.tag;
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1) return bad;
  if (EVP_DecryptFinal_ex(ctx_, nullptr, &n) != 1) return bad;
  return plain;
}

}  // namespace stopgate::evidence
