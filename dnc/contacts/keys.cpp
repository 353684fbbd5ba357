// SipHash-2-4 written from the paper ("SipHash: a fast short-input PRF", Aumasson and
// Bernstein, 2012, and its 128-bit-output variant), and the number pseudonym built on it.
#include "dnc/contacts/keys.hpp"

#include "dnc/contacts/cache.hpp"
#include "redis/slot.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

namespace stopgate::dnc::contacts {
namespace {

class contact_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.contact"; }
  std::string message(int ev) const override {
    switch (static_cast<contact_errc>(ev)) {
      case contact_errc::bad_secret:
        return "the contact pseudonym secret needs at least 16 bytes";
      case contact_errc::bad_sender:
        return "sender names are 1-64 bytes without spaces or control characters";
      case contact_errc::bad_campaign:
        return "campaign names are 1-64 bytes without spaces or control characters";
      case contact_errc::bad_window:
        return "a cap window must be positive";
      case contact_errc::redis_error:
        return "Redis answered with an error";
      case contact_errc::bad_data:
        return "unexpected data in the contact store";
      case contact_errc::busy:
        return "the number kept changing during forget; try again";
      case contact_errc::replicas_behind:
        return "fewer Redis replicas than redis.min_replica_acks acknowledged the write within "
               "redis.replica_ack_timeout_ms (it is on the primary only and could be lost by a "
               "failover)";
    }
    return "unknown contact store error";
  }
};

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_le64(std::uint64_t v, std::uint8_t* p) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = std::uint8_t(v >> (8 * i));
}

struct sip_state {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();  // c = 2 compression rounds
    v0 ^= m;
  }
  // d = 4 finalisation rounds after flipping `flip` into v2 (the first or only tag word)
  // or into v1 (the second word of a 128-bit tag).
  std::uint64_t finish(std::uint64_t& lane, std::uint8_t flip) noexcept {
    lane ^= flip;
    for (int i = 0; i < 4; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

// Initialisation and compression shared by both tag sizes.
sip_state compress(const std::array<std::uint8_t, 16>& key, std::span<const std::uint8_t> m,
                   bool wide) noexcept {
  const std::uint64_t k0 = load_le64(key.data()), k1 = load_le64(key.data() + 8);
  sip_state s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
              k1 ^ 0x7465646279746573ULL};
  if (wide) s.v1 ^= 0xee;
  const std::size_t whole = m.size() / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) s.absorb(load_le64(m.data() + i));
  // The last word: the remaining bytes, then the message length mod 256 in the top byte.
  std::uint64_t last = std::uint64_t(m.size() & 0xff) << 56;
  for (std::size_t i = whole; i < m.size(); ++i) last |= std::uint64_t(m[i]) << (8 * (i - whole));
  s.absorb(last);
  return s;
}

}  // namespace

const boost::system::error_category& contact_category() noexcept {
  static const contact_category_impl cat;
  return cat;
}

std::uint64_t siphash24_64(const std::array<std::uint8_t, 16>& key,
                           std::span<const std::uint8_t> message) noexcept {
  sip_state s = compress(key, message, false);
  return s.finish(s.v2, 0xff);
}

std::array<std::uint8_t, 16> siphash24_128(const std::array<std::uint8_t, 16>& key,
                                           std::span<const std::uint8_t> message) noexcept {
  sip_state s = compress(key, message, true);
  std::array<std::uint8_t, 16> out{};
  store_le64(s.finish(s.v2, 0xee), out.data());
  store_le64(s.finish(s.v1, 0xdd), out.data() + 8);
  return out;
}

namespace contact_keys {

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_name) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == 0x7f) return false;
  return true;
}

boost::system::result<pseudonymizer> pseudonymizer::create(std::string_view secret) {
  if (secret.size() < 16) return make_error_code(contact_errc::bad_secret);
  // Hashing first lets any secret length count fully and separates this use of the secret.
  static constexpr char domain[] = "stopgate contact pseudonym v1";
  std::string input(domain, sizeof domain);  // includes the NUL separator
  input.append(secret);
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  OPENSSL_cleanse(input.data(), input.size());
  std::array<std::uint8_t, 16> k{};
  std::memcpy(k.data(), digest, k.size());
  return pseudonymizer(k);
}

std::string_view slot_tag(std::uint16_t slot) {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(16384);
    std::size_t filled = 0;
    for (std::uint64_t i = 0; filled < t.size(); ++i) {
      std::string tag = "c:s" + std::to_string(i);
      std::string& at = t[redis::key_slot(tag)];
      if (at.empty()) {
        at = std::move(tag);
        ++filled;
      }
    }
    return t;
  }();
  return table[slot % table.size()];
}

std::string slot_marker(std::uint16_t slot) {
  std::string k = "{";
  k += slot_tag(slot);
  k += "}:m";
  return k;
}

bool is_slot_marker(std::string_view key) noexcept {
  return key.size() > 7 && key.starts_with("{c:s") && key.ends_with("}:m");
}

change_keys changes_for(std::string_view hash_key, bool per_slot) {
  if (!per_slot) return {std::string(change_stream_key), std::string(change_counter_key)};
  std::string stream = "{";
  stream += slot_tag(redis::key_slot(hash_key));
  stream += "}:chg";
  return {stream, stream + ":n"};
}

std::string consent_id_of(std::string_view evidence_id) {
  static constexpr char domain[] = "stopgate consent id v1";
  std::string input(domain, sizeof domain);  // includes the NUL separator
  input.append(evidence_id);
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "cn_";
  for (int i = 0; i < 8; ++i) {
    id += hex[digest[i] >> 4];
    id += hex[digest[i] & 15];
  }
  return id;
}

void pseudonymizer::tag(model::phone_number n, tag_buffer& out) const noexcept {
  // The message is the E.164 digits as ASCII, without '+'.
  std::uint8_t digits[20];
  std::size_t len = 0;
  for (std::uint64_t v = n.value(); v != 0 || len == 0; v /= 10) digits[len++] = '0' + v % 10;
  for (std::size_t i = 0; i < len / 2; ++i) std::swap(digits[i], digits[len - 1 - i]);
  const auto h = siphash24_128(key_, std::span<const std::uint8_t>(digits, len));
  static constexpr char hex[] = "0123456789abcdef";
  char* p = out.data();
  *p++ = '{';
  *p++ = 'c';
  *p++ = ':';
  for (std::uint8_t b : h) {
    *p++ = hex[b >> 4];
    *p++ = hex[b & 15];
  }
  *p = '}';
}

std::string pseudonymizer::tag(model::phone_number n) const {
  tag_buffer b;
  tag(n, b);
  return std::string(b.data(), b.size());
}

}  // namespace contact_keys
}  // namespace stopgate::dnc::contacts
