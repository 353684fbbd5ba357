// The writer's splice (prepare_fields on the appender + append_record on the writer) must give
// exactly the canonical bytes of docs/EVIDENCE.md, i.e. append_canonical of the whole record.
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/prepared.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>

namespace stopgate::evidence {
namespace {

std::string spliced(const boost::json::object& own, const record_head& h) {
  prepared_fields f;
  EXPECT_FALSE(prepare_fields(own, f));
  std::string out = "junk";  // append_record appends
  append_record(out, f, h);
  EXPECT_EQ(out.size() - 4, canonical_size(f, h));
  return out.substr(4);
}

std::string reference(boost::json::object own, const record_head& h) {
  own["id"] = h.id;
  own["prev"] = h.prev;
  own["seq"] = h.seq;
  own["ts"] = h.ts;
  own["type"] = to_string(h.type);
  std::string out;
  EXPECT_TRUE(append_canonical(out, own));
  return out;
}

TEST(EvidencePrepared, SplicedRecordIsTheCanonicalForm) {
  const std::string prev(64, 'a');
  const record_head h{"gw1-1042", prev, 1042, "2026-11-29T10:00:00.000001Z",
                      record_type::decision};
  // Keys chosen to land before, between and after every reserved name (byte order: capitals
  // and '_' sort before lowercase, non-ASCII after), plus escapes and nesting.
  const char* cases[] = {
      R"({})",
      R"({"to":"+14155552671"})",
      R"({"a":1,"i":2,"idx":3,"p":4,"prev_x":5,"s":6,"seq0":7,"t":8,"tz":9,"type_":10,"z":11})",
      R"({"Z":"upper","_":"under","\u00e9t\u00e9":"non-ascii","ts\u0000":"nul in key"})",
      R"({"body":"line\nbreak \"quoted\" back\\slash \u0001 caf\u00e9 \u20ac /","n":-5})",
      R"({"lists":{"internal":"gen-7","ftc":"gen-42"},"reasons":["b","a",{"y":1,"x":[true,null]}]})",
      R"({"zzz":18446744073709551615,"tx":false,"ida":"x","pre":"y","sep":"z","tt":"w"})",
  };
  for (const char* c : cases) {
    const auto own = boost::json::parse(c).as_object();
    EXPECT_EQ(spliced(own, h), reference(own, h)) << c;
  }
}

TEST(EvidencePrepared, RejectsReservedNamesFloatsAndBadUtf8) {
  prepared_fields f;
  for (const char* name : {"id", "seq", "ts", "type", "prev", "hash"}) {
    boost::json::object o{{"to", "+14155552671"}, {name, 1}};
    EXPECT_EQ(prepare_fields(o, f), errc::reserved_field) << name;
  }
  EXPECT_EQ(prepare_fields({{"price", 0.5}}, f), errc::unsupported_value);
  EXPECT_EQ(prepare_fields({{"x", boost::json::array{1, 2.5}}}, f), errc::unsupported_value);
  EXPECT_EQ(prepare_fields({{"x", "\xff"}}, f), errc::unsupported_value);
  EXPECT_EQ(prepare_fields({{"\xc0\x80", 1}}, f), errc::unsupported_value);
}

TEST(EvidencePrepared, TimestampTextMatchesFormatTs) {
  const auto t = *parse_ts("2026-02-03T04:05:06.000789Z");
  char buf[ts_size];
  write_ts(t, buf);
  EXPECT_EQ(std::string(buf, ts_size), "2026-02-03T04:05:06.000789Z");
  EXPECT_EQ(format_ts(t), "2026-02-03T04:05:06.000789Z");
}

}  // namespace
}  // namespace stopgate::evidence
