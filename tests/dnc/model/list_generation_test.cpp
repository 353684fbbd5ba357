#include "dnc/model/list_generation.hpp"

#include <gtest/gtest.h>

namespace stopgate::dnc::model {
namespace {

phone_number num(const char* s) {
  return *parse_e164(s);
}

list_generation make(list_builder::result r, std::uint64_t gen = 1) {
  list_meta m;
  m.name = "test";
  m.generation = gen;
  m.count = r.count;
  return list_generation(std::move(m), std::move(r.npa), std::move(r.sparse));
}

TEST(NpaBitmap, UsesRedisBitOrder) {
  npa_bitmap b;
  EXPECT_TRUE(b.set(0));
  EXPECT_FALSE(b.set(0));
  EXPECT_TRUE(b.set(9));
  EXPECT_TRUE(b.set(9'999'999));
  // Offset 0 is the most significant bit of byte 0, as Redis SETBIT/GETBIT.
  EXPECT_EQ(static_cast<unsigned char>(b.view()[0]), 0x80u);
  EXPECT_EQ(static_cast<unsigned char>(b.view()[1]), 0x40u);
  EXPECT_EQ(static_cast<unsigned char>(b.view()[npa_bitmap::bytes - 1]), 0x01u);
  EXPECT_EQ(b.count(), 3u);
  std::vector<std::uint32_t> seen;
  b.for_each([&](std::uint32_t i) { seen.push_back(i); });
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{0, 9, 9'999'999}));
  EXPECT_TRUE(b.clear(9));
  EXPECT_FALSE(b.contains(9));
  npa_bitmap copy(b.view().substr(0, 1));  // a shorter Redis value is zero-extended
  EXPECT_TRUE(copy.contains(0));
  EXPECT_FALSE(copy.contains(9'999'999));
}

TEST(ListBuilder, DenseAreaCodesBecomeBitmapsThinOnesSparse) {
  list_builder b;
  for (std::uint32_t i = 0; i < list_builder::dense_threshold; ++i)
    b.add(phone_number::nanp(415, 2'000'000 + i * 7));
  b.add(phone_number::nanp(212, 5552671));
  b.add(phone_number::nanp(212, 5552671));  // duplicates count once
  b.add(num("+442071838750"));
  auto g = make(b.finish());
  EXPECT_EQ(g.meta().count, list_builder::dense_threshold + 2);
  EXPECT_NE(g.bitmap(415), nullptr);
  EXPECT_EQ(g.bitmap(212), nullptr);
  EXPECT_EQ(g.sparse().size(), 2u);
  EXPECT_TRUE(g.contains(phone_number::nanp(415, 2'000'007)));
  EXPECT_FALSE(g.contains(phone_number::nanp(415, 2'000'008)));
  EXPECT_TRUE(g.contains(num("+12125552671")));
  EXPECT_FALSE(g.contains(num("+12125552672")));
  EXPECT_TRUE(g.contains(num("+442071838750")));
  EXPECT_FALSE(g.contains(num("+442071838751")));
  std::vector<phone_number> q{num("+12125552671"), num("+12125552672"),
                              phone_number::nanp(415, 2'000'000)};
  bool out[3];
  g.contains_many(q, out);
  EXPECT_TRUE(out[0]);
  EXPECT_FALSE(out[1]);
  EXPECT_TRUE(out[2]);
}

TEST(ListBuilder, ChangeListCopiesOnlyTouchedAreaCodesAndAppliesInOrder) {
  list_builder full;
  for (std::uint32_t i = 0; i < list_builder::dense_threshold; ++i) {
    full.add(phone_number::nanp(415, 2'000'000 + i));
    full.add(phone_number::nanp(212, 2'000'000 + i));
  }
  full.add(num("+13125552671"));
  auto base = make(full.finish());

  list_builder ch(base);
  ch.remove(phone_number::nanp(415, 2'000'000));
  ch.add(phone_number::nanp(415, 9'000'000));
  ch.add(num("+16175552671"));     // sparse add
  ch.remove(num("+13125552671"));  // sparse remove
  ch.add(num("+17185552671"));
  ch.remove(num("+17185552671"));  // add then delete in one file: absent
  auto r = ch.finish();
  EXPECT_TRUE(r.npa_changed[415]);
  EXPECT_FALSE(r.npa_changed[212]);
  EXPECT_EQ(r.npa[212], base.bitmap(212));  // shared, not copied
  EXPECT_TRUE(r.sparse_changed);
  auto next = make(std::move(r), 2);
  EXPECT_FALSE(next.contains(phone_number::nanp(415, 2'000'000)));
  EXPECT_TRUE(next.contains(phone_number::nanp(415, 9'000'000)));
  EXPECT_TRUE(next.contains(num("+16175552671")));
  EXPECT_FALSE(next.contains(num("+13125552671")));
  EXPECT_FALSE(next.contains(num("+17185552671")));
  EXPECT_EQ(next.meta().count, 2 * list_builder::dense_threshold + 1);
  // The base generation is untouched.
  EXPECT_TRUE(base.contains(phone_number::nanp(415, 2'000'000)));
  EXPECT_TRUE(base.contains(num("+13125552671")));
}

}  // namespace
}  // namespace stopgate::dnc::model
