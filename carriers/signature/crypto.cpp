#include "carriers/signature/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace stopgate::carriers::signature {
namespace {

// Fetched once per algorithm: EVP_sha256() and friends make every digest initialisation look
// the algorithm up again in OpenSSL 3's provider store (locks included), and one-shot HMAC()
// fetches the MAC and the digest on every call.
const EVP_MD* md_of(digest_alg alg) noexcept {
  static const EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static const EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static const EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  switch (alg) {
    case digest_alg::md5: return md5;
    case digest_alg::sha1: return sha1;
    case digest_alg::sha256: return sha256;
    case digest_alg::sha512: return sha512;
  }
  return sha256;
}

const unsigned char* bytes(std::string_view s) noexcept {
  // OpenSSL rejects some null pointers even for zero lengths; point empty input at "".
  static const unsigned char empty[1] = {0};
  return s.empty() ? empty : reinterpret_cast<const unsigned char*>(s.data());
}

struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;

// One digest context per thread, reused by every hmac() call on it.
EVP_MD_CTX* thread_md_ctx() noexcept {
  thread_local const md_ctx_ptr ctx(EVP_MD_CTX_new());
  return ctx.get();
}

constexpr char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64_encode(std::string_view raw, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    unsigned v = (unsigned char)raw[i] << 16 | (unsigned char)raw[i + 1] << 8 |
                 (unsigned char)raw[i + 2];
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += alphabet[v & 63];
  }
  std::size_t rest = raw.size() - i;
  if (rest > 0) {
    unsigned v = (unsigned char)raw[i] << 16;
    if (rest == 2) v |= (unsigned char)raw[i + 1] << 8;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    if (rest == 2) out += alphabet[v >> 6 & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

int b64_value(char c, bool url) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

std::optional<std::string> b64_decode(std::string_view text, bool url, bool allow_pad) {
  if (allow_pad && text.size() % 4 == 0 && !text.empty()) {
    if (text.back() == '=') text.remove_suffix(1);
    if (text.back() == '=') text.remove_suffix(1);
  }
  // Four characters carry three bytes; a lone trailing character carries none.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64_value(c, url);
    if (v < 0) return std::nullopt;
    acc = (acc << 6 | unsigned(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char(acc >> bits & 0xFF));
    }
  }
  // Canonical encodings leave the unused low bits zero; anything else is a different text
  // for the same bytes, which a signature header has no reason to carry.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string digest(digest_alg alg, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes(msg), msg.size(), out, &len, md_of(alg), nullptr) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hmac(digest_alg alg, std::string_view key, std::string_view msg) {
  // RFC 2104: H((K0 ^ opad) || H((K0 ^ ipad) || msg)), K0 the key (hashed first when longer
  // than the block) padded with zeros to the block size.
  const EVP_MD* md = md_of(alg);
  EVP_MD_CTX* ctx = thread_md_ctx();
  if (md == nullptr || ctx == nullptr) return {};
  const int block_size = EVP_MD_get_block_size(md);
  if (block_size <= 0 || block_size > 128) return {};
  const auto block = std::size_t(block_size);
  unsigned char k0[128] = {};
  unsigned int len = 0;
  if (key.size() > block) {
    if (EVP_Digest(bytes(key), key.size(), k0, &len, md, nullptr) != 1) return {};
  } else {
    std::memcpy(k0, bytes(key), key.size());
  }
  unsigned char pad[128];
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned char out[EVP_MAX_MD_SIZE];
  for (std::size_t i = 0; i < block; ++i) pad[i] = k0[i] ^ 0x36;
  bool ok = EVP_DigestInit_ex2(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, pad, block) == 1 &&
            EVP_DigestUpdate(ctx, bytes(msg), msg.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, inner, &len) == 1;
  const unsigned int inner_len = len;
  for (std::size_t i = 0; i < block; ++i) pad[i] = k0[i] ^ 0x5c;
  ok = ok && EVP_DigestInit_ex2(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, pad, block) == 1 &&
       EVP_DigestUpdate(ctx, inner, inner_len) == 1 && EVP_DigestFinal_ex(ctx, out, &len) == 1;
  OPENSSL_cleanse(k0, sizeof k0);
  OPENSSL_cleanse(pad, sizeof pad);
  if (!ok) return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string base64_encode(std::string_view raw) { return b64_encode(raw, b64_std, true); }
std::optional<std::string> base64_decode(std::string_view text) {
  return b64_decode(text, false, true);
}
std::string base64url_encode(std::string_view raw) { return b64_encode(raw, b64_url, false); }
std::optional<std::string> base64url_decode(std::string_view text) {
  return b64_decode(text, true, false);
}

std::string hex_encode(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = val(text[i]), lo = val(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi << 4 | lo));
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<ed25519_public_key> parse_ed25519_public_key(std::string_view base64) {
  auto raw = base64_decode(base64);
  if (!raw || raw->size() != 32) return std::nullopt;
  ed25519_public_key key;
  for (std::size_t i = 0; i < 32; ++i) key[i] = static_cast<unsigned char>((*raw)[i]);
  return key;
}

bool ed25519_verify(const ed25519_public_key& key, std::string_view signature,
                    std::string_view msg) noexcept {
  if (signature.size() != 64) return false;
  pkey_ptr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx) return false;
  // Ed25519 is a one-shot scheme: no digest is configured, the whole message is passed.
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(msg),
                          msg.size()) == 1;
}

std::optional<std::string> ed25519_sign(std::string_view seed, std::string_view msg) {
  if (seed.size() != 32) return std::nullopt;
  pkey_ptr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(seed), 32));
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx) return std::nullopt;
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
    return std::nullopt;
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(msg),
                     msg.size()) != 1 || len != 64)
    return std::nullopt;
  return sig;
}

std::optional<ed25519_public_key> ed25519_public_from_seed(std::string_view seed) {
  if (seed.size() != 32) return std::nullopt;
  pkey_ptr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(seed), 32));
  if (!pkey) return std::nullopt;
  ed25519_public_key key;
  std::size_t len = key.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.data(), &len) != 1 || len != 32)
    return std::nullopt;
  return key;
}

}  // namespace stopgate::carriers::signature
