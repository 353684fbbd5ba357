// SipHash-2-4 against the reference implementation's vectors, and the number pseudonym.
#include "dnc/contacts/keys.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <span>

namespace stopgate::dnc::contacts {
namespace {

const std::string secret = "0123456789abcdef-test-secret";

contact_keys::pseudonymizer pseudo(std::string_view s = secret) {
  return contact_keys::pseudonymizer::create(s).value();
}

const model::phone_number alice = model::phone_number::nanp(415, 5552671);  // +14155552671
const model::phone_number bob = model::phone_number::nanp(212, 5550123);

// --- SipHash -----------------------------------------------------------------------------

// SipHash-2-4 64-bit tags of the reference implementation (key 00..0f, message 00..len-1),
// as little-endian integers.
constexpr std::uint64_t sip64_vectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

// SipHash-2-4 128-bit tags (vectors_sip128 of the reference implementation) for some
// message lengths: every partial-word length, one and two whole words, the longest.
struct sip128_vector {
  std::size_t len;
  std::array<std::uint8_t, 16> tag;
};
const sip128_vector sip128_vectors[] = {
    {0,
     {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02,
      0x93}},
    {1,
     {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc,
      0x45}},
    {2,
     {0x81, 0x77, 0x22, 0x8d, 0xa4, 0xa4, 0x5d, 0xc7, 0xfc, 0xa3, 0x8b, 0xde, 0xf6, 0x0a, 0xff,
      0xe4}},
    {3,
     {0x9c, 0x70, 0xb6, 0x0c, 0x52, 0x67, 0xa9, 0x4e, 0x5f, 0x33, 0xb6, 0xb0, 0x29, 0x85, 0xed,
      0x51}},
    {4,
     {0xf8, 0x81, 0x64, 0xc1, 0x2d, 0x9c, 0x8f, 0xaf, 0x7d, 0x0f, 0x6e, 0x7c, 0x7b, 0xcd, 0x55,
      0x79}},
    {5,
     {0x13, 0x68, 0x87, 0x59, 0x80, 0x77, 0x6f, 0x88, 0x54, 0x52, 0x7a, 0x07, 0x69, 0x0e, 0x96,
      0x27}},
    {6,
     {0x14, 0xee, 0xca, 0x33, 0x8b, 0x20, 0x86, 0x13, 0x48, 0x5e, 0xa0, 0x30, 0x8f, 0xd7, 0xa1,
      0x5e}},
    {7,
     {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82,
      0x39}},
    {8,
     {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97,
      0xb4}},
    {9,
     {0x26, 0x44, 0x99, 0x06, 0x0a, 0xd9, 0xba, 0xab, 0xc4, 0x7f, 0x8b, 0x02, 0xbb, 0x6d, 0x71,
      0xed}},
    {15,
     {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3,
      0xd9}},
    {16,
     {0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85, 0x23, 0x05,
      0x77}},
    {63,
     {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd,
      0x7c}},
};

std::array<std::uint8_t, 16> reference_key() {
  std::array<std::uint8_t, 16> k{};
  for (int i = 0; i < 16; ++i) k[i] = std::uint8_t(i);
  return k;
}

TEST(SipHash, ReferenceVectors64) {
  std::array<std::uint8_t, 64> msg{};
  for (int i = 0; i < 64; ++i) msg[i] = std::uint8_t(i);
  for (std::size_t len = 0; len < 64; ++len)
    EXPECT_EQ(siphash24_64(reference_key(), std::span(msg.data(), len)), sip64_vectors[len])
        << "length " << len;
}

TEST(SipHash, ReferenceVectors128) {
  std::array<std::uint8_t, 64> msg{};
  for (int i = 0; i < 64; ++i) msg[i] = std::uint8_t(i);
  for (const auto& v : sip128_vectors)
    EXPECT_EQ(siphash24_128(reference_key(), std::span(msg.data(), v.len)), v.tag)
        << "length " << v.len;
}

TEST(ContactKeys, PseudonymNeedsA16ByteSecretAndDependsOnIt) {
  EXPECT_EQ(contact_keys::pseudonymizer::create("short-secret").error(),
            make_error_code(contact_errc::bad_secret));
  const std::string a = pseudo().tag(alice);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a.substr(0, 3), "{c:");
  EXPECT_EQ(a.back(), '}');
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 3), 35u);
  EXPECT_EQ(pseudo().tag(alice), a);  // stable: every gateway derives the same key
  EXPECT_NE(pseudo().tag(bob), a);
  EXPECT_NE(pseudo("another-secret-of-16+bytes").tag(alice), a);
  EXPECT_TRUE(contact_keys::valid_name("*"));
  EXPECT_FALSE(contact_keys::valid_name(""));
  EXPECT_FALSE(contact_keys::valid_name("two words"));
  EXPECT_FALSE(contact_keys::valid_name(std::string(65, 'a')));
}

TEST(ContactKeys, PseudonymCost) {
  const auto p = pseudo();
  contact_keys::tag_buffer b;
  constexpr int n = 1'000'000;
  unsigned sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    p.tag(model::phone_number::nanp(415, 2'000'000 + std::uint32_t(i)), b);
    sink += static_cast<unsigned char>(b[3]);
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
  EXPECT_NE(sink, 0u);
  std::printf("[ measure  ] pseudonym tag of a number: %.1f ns\n", ns);
}

}  // namespace
}  // namespace stopgate::dnc::contacts
