#include "dnc/lists/file.hpp"

#include "dnc/lists/file_detail.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

namespace stopgate::dnc::lists {
namespace {

using namespace std::chrono;

struct read_result {
  std::vector<entry> entries;
  read_stats stats;
  boost::system::error_code ec;
  std::string message;
  std::size_t batches = 0;
};

read_result drain(dnc_file_reader& r, std::size_t batch = 65536) {
  read_result out;
  std::vector<entry> buf;
  for (;;) {
    auto more = r.next_batch(buf, batch);
    if (!more) {
      out.ec = more.error();
      out.message = r.error_message();
      break;
    }
    EXPECT_LE(buf.size(), batch);
    out.entries.insert(out.entries.end(), buf.begin(), buf.end());
    if (!*more) {
      EXPECT_TRUE(buf.empty());
      break;
    }
    ++out.batches;
  }
  out.stats = r.stats();
  return out;
}

read_result read_mem(std::string data, reader_options o = {}, std::size_t batch = 65536) {
  auto r = dnc_file_reader::from_memory(std::move(data), std::move(o));
  return drain(r, batch);
}

reader_options fmt(file_format f) {
  reader_options o;
  o.format = f;
  return o;
}

std::vector<std::uint64_t> values(const read_result& r) {
  std::vector<std::uint64_t> v;
  for (const auto& e : r.entries) v.push_back(e.number.value());
  return v;
}

std::string gzip(const std::string& plain) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, uLong(plain.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = uInt(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Every returned number is valid and the counters add up (csv also counts its header).
void expect_consistent(const read_result& r, std::uint64_t header_lines = 0) {
  EXPECT_EQ(r.stats.lines, r.stats.numbers + r.stats.blank + r.stats.bad + header_lines);
  EXPECT_EQ(r.stats.numbers, r.entries.size());
  EXPECT_EQ(r.stats.first_bad.size(), std::min<std::uint64_t>(r.stats.bad, 20));
}

TEST(DncFileFormat, ParsesNames) {
  EXPECT_EQ(*parse_file_format("ftc"), file_format::ftc);
  EXPECT_EQ(*parse_file_format("ftc-changes"), file_format::ftc_changes);
  EXPECT_EQ(*parse_file_format("csv"), file_format::csv);
  EXPECT_EQ(*parse_file_format("lines"), file_format::lines);
  EXPECT_EQ(parse_file_format("FTC").error(), file_errc::unknown_format);
  EXPECT_EQ(parse_file_format("json").error(), file_errc::unknown_format);
  for (auto f : {file_format::ftc, file_format::ftc_changes, file_format::csv, file_format::lines})
    EXPECT_EQ(*parse_file_format(to_string(f)), f);
}

struct line_case {
  std::string_view line;
  detail::line_kind kind;
  std::uint64_t value;  // E.164 digits when kind == number
};

TEST(DncFileFtc, LineTable) {
  using enum detail::line_kind;
  const line_case cases[] = {
      {"4155552671", number, 14155552671},
      {"415,5552671", number, 14155552671},
      {"  4155552671\t", number, 14155552671},
      {"", blank, 0},
      {"   ", blank, 0},
      {"415555267", bad, 0},     // 9 digits
      {"41555526710", bad, 0},   // 11 digits
      {"14155552671", bad, 0},   // ftc has no country code
      {"415-555-2671", bad, 0},  // ftc is strict; punctuation is for lines/csv
      {"415,555267", bad, 0},
      {"4155,552671", bad, 0},
      {"+14155552671", bad, 0},
      {"0155552671", bad, 0},  // area code starting with 0
      {"1155552671", bad, 0},  // area code starting with 1
      {"4115552671", bad, 0},  // N11
      {"9115552671", bad, 0},  // N11
      {"4150552671", bad, 0},  // exchange starting with 0
      {"4151552671", bad, 0},  // exchange starting with 1
      {"4155550100", bad, 0},  // fictional 555-01xx
      {"4155550199", bad, 0},
      {"4155550200", number, 14155550200},
      {"2125550099", number, 12125550099},
  };
  for (const auto& c : cases) {
    auto r = detail::parse_ftc_line(c.line);
    EXPECT_EQ(r.kind, c.kind) << c.line;
    if (c.kind == number) {
      EXPECT_EQ(r.value.number.value(), c.value) << c.line;
    }
  }
}

TEST(DncFileLines, LineTable) {
  using enum detail::line_kind;
  const line_case cases[] = {
      {"4155552671", number, 14155552671},
      {"+14155552671", number, 14155552671},
      {"14155552671", number, 14155552671},
      {"(415) 555-2671", number, 14155552671},
      {"+442079460958", number, 442079460958},  // non-NANP E.164 is a number too
      {" \t ", blank, 0},
      {"415,5552671", bad, 0},
      {"+14115552671", bad, 0},
      {"+14155550150", bad, 0},
      {"2015550100", bad, 0},
      {"hello", bad, 0},
  };
  for (const auto& c : cases) {
    auto r = detail::parse_lines_line(c.line);
    EXPECT_EQ(r.kind, c.kind) << c.line;
    if (c.kind == number) {
      EXPECT_EQ(r.value.number.value(), c.value) << c.line;
    }
  }
}

TEST(DncFileFtc, ReadsBothFormsWithCrlfBomBlankAndNoFinalNewline) {
  auto r = read_mem(
      "\xEF\xBB\xBF"
      "4155552671\r\n415,5552672\r\n\r\n\n2125552143");
  ASSERT_FALSE(r.ec) << r.message;
  EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671, 14155552672, 12125552143}));
  EXPECT_EQ(r.stats.lines, 5u);
  EXPECT_EQ(r.stats.blank, 2u);
  EXPECT_EQ(r.stats.bad, 0u);
  for (const auto& e : r.entries) EXPECT_EQ(e.op, change_op::add);
  expect_consistent(r);
}

TEST(DncFileFtc, EmptyFileHasNoLines) {
  auto r = read_mem("");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.stats.lines, 0u);
  EXPECT_TRUE(r.entries.empty());
  auto bom_only = read_mem("\xEF\xBB\xBF");
  ASSERT_FALSE(bom_only.ec);
  EXPECT_EQ(bom_only.stats.lines, 0u);
}

TEST(DncFileFtc, BadLinesKeepLineNumbersAndOnlyTheFirstTwenty) {
  std::string data;
  std::vector<std::uint64_t> bad_at;
  for (int i = 1; i <= 100; ++i) {
    if (i % 3 == 0) {
      data += "junk" + std::to_string(i) + "\n";
      bad_at.push_back(std::uint64_t(i));
    } else if (i % 7 == 0) {
      data += "\n";
    } else {
      data += "41555" + std::to_string(52000 + i) + "\n";
    }
  }
  auto r = read_mem(data);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.stats.lines, 100u);
  EXPECT_EQ(r.stats.bad, bad_at.size());
  ASSERT_EQ(r.stats.first_bad.size(), 20u);
  for (std::size_t k = 0; k < 20; ++k) {
    EXPECT_EQ(r.stats.first_bad[k].line_no, bad_at[k]);
    EXPECT_EQ(r.stats.first_bad[k].text, "junk" + std::to_string(bad_at[k]));
    EXPECT_EQ(r.stats.first_bad[k].reason, "expected 10 digits or NPA,NNNNNNN");
  }
  expect_consistent(r);
}

TEST(DncFileFtc, InvalidNanpNumbersAreBadLinesWithTheRule) {
  auto r = read_mem("0155552671\n1155552671\n6115552671\n4155550123\n4155552671\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.stats.numbers, 1u);
  ASSERT_EQ(r.stats.bad, 4u);
  EXPECT_EQ(r.stats.first_bad[0].reason, "invalid number: area code must not start with 0 or 1");
  EXPECT_EQ(r.stats.first_bad[1].reason, "invalid number: area code must not start with 0 or 1");
  EXPECT_EQ(r.stats.first_bad[2].reason, "invalid number: N11 codes are not area codes");
  EXPECT_EQ(r.stats.first_bad[3].reason,
            "invalid number: 555-0100 to 555-0199 are fictional numbers");
  EXPECT_EQ(r.stats.first_bad[3].line_no, 4u);
}

TEST(DncFileFtc, OverlongLineIsOneBadLineNotACrash) {
  for (std::size_t chunk :
       {std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{4} << 20}) {
    reader_options o;
    o.chunk_bytes = chunk;
    const std::string huge(5000, '9');
    auto r = read_mem("4155552671\n" + huge + "\n4155552672\n" + huge, o);
    ASSERT_FALSE(r.ec) << chunk;
    EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671, 14155552672})) << chunk;
    ASSERT_EQ(r.stats.bad, 2u) << chunk;
    EXPECT_EQ(r.stats.first_bad[0].line_no, 2u);
    EXPECT_EQ(r.stats.first_bad[1].line_no, 4u);
    EXPECT_EQ(r.stats.first_bad[0].reason, "line longer than 1024 bytes");
    EXPECT_EQ(r.stats.first_bad[0].text, std::string(120, '9'));
    expect_consistent(r);
  }
}

TEST(DncFileFtc, LineOfExactlyTheLimitIsParsedNotSkipped) {
  reader_options o;
  o.max_line_bytes = 16;
  o.chunk_bytes = 5;
  auto r = read_mem("4155552671      \n4155552672       \n4155552673\n", o);
  EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671, 14155552673}));
  ASSERT_EQ(r.stats.bad, 1u);
  EXPECT_EQ(r.stats.first_bad[0].line_no, 2u);
}

// The same bytes give the same entries and counters whatever the chunk and batch sizes, so
// numbers split across chunk boundaries parse correctly.
TEST(DncFileFtc, ChunkAndBatchBoundariesDoNotChangeTheResult) {
  std::string data = "\xEF\xBB\xBF";
  for (int i = 0; i < 3000; ++i) {
    const std::string local = std::to_string(2000000 + i * 7);
    data += i % 2 ? "415," + local : "212" + local;
    data += i % 5 ? "\n" : "\r\n";
    if (i % 97 == 0) data += "bad line\n";
    if (i % 101 == 0) data += std::string(1500, 'x') + "\n";
  }
  const auto want = read_mem(data);
  ASSERT_FALSE(want.ec);
  EXPECT_EQ(want.stats.numbers, 3000u);
  for (std::size_t chunk : {1, 2, 3, 10, 11, 12, 13, 1000, 4096}) {
    for (std::size_t batch : {1, 3, 1000}) {
      reader_options o;
      o.chunk_bytes = chunk;
      for (const bool gz : {false, true}) {
        auto got = read_mem(gz ? gzip(data) : data, o, batch);
        ASSERT_FALSE(got.ec) << got.message;
        EXPECT_EQ(values(got), values(want)) << chunk << " " << batch << " " << gz;
        EXPECT_EQ(got.stats.lines, want.stats.lines);
        EXPECT_EQ(got.stats.bad, want.stats.bad);
        ASSERT_EQ(got.stats.first_bad.size(), want.stats.first_bad.size());
        for (std::size_t k = 0; k < got.stats.first_bad.size(); ++k)
          EXPECT_EQ(got.stats.first_bad[k].line_no, want.stats.first_bad[k].line_no);
      }
    }
  }
}

TEST(DncFileFtc, BatchesAreBoundedAndEndIsStable) {
  std::string data;
  for (int i = 0; i < 10; ++i) data += "41555526" + std::to_string(10 + i) + "\n";
  auto r = dnc_file_reader::from_memory(data, {});
  std::vector<entry> out;
  std::size_t total = 0;
  for (int k = 0; k < 3; ++k) {
    auto more = r.next_batch(out, 4);
    ASSERT_TRUE(more);
    EXPECT_TRUE(*more);
    total += out.size();
  }
  EXPECT_EQ(total, 10u);
  auto end = r.next_batch(out, 4);
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(*r.next_batch(out, 4));
}

TEST(DncFileGzip, EqualsPlainAndIsDetectedByMagicNotName) {
  std::string data;
  for (int i = 0; i < 20000; ++i) data += "415" + std::to_string(2000000 + i) + "\n";
  data += "junk\n";
  const auto plain = read_mem(data);
  const auto gz = read_mem(gzip(data));
  ASSERT_FALSE(gz.ec) << gz.message;
  EXPECT_EQ(values(gz), values(plain));
  EXPECT_EQ(gz.stats.lines, plain.stats.lines);
  EXPECT_EQ(gz.stats.bad, 1u);
  EXPECT_EQ(gz.stats.first_bad[0].line_no, 20001u);
  const std::string compressed = gzip(data);
  EXPECT_EQ(gz.stats.bytes_in, compressed.size());
  EXPECT_EQ(gz.stats.file_size, compressed.size());

  test::temp_dir dir;
  auto path = dir.write("list.txt", compressed);  // no .gz suffix on purpose
  auto r = dnc_file_reader::open(path, {});
  ASSERT_TRUE(r);
  auto from_file = drain(*r);
  ASSERT_FALSE(from_file.ec) << from_file.message;
  EXPECT_EQ(values(from_file), values(plain));
  EXPECT_EQ(from_file.stats.bytes_in, compressed.size());
}

TEST(DncFileGzip, ConcatenatedMembersAreOneStream) {
  auto r = read_mem(gzip("4155552671\n415555") + gzip("2672\n"));
  ASSERT_FALSE(r.ec) << r.message;
  EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671, 14155552672}));
}

TEST(DncFileGzip, TruncatedIsAnError) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += "415" + std::to_string(2000000 + i) + "\n";
  const std::string gz = gzip(data);
  for (std::size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, std::size_t{5}}) {
    auto r = read_mem(gz.substr(0, cut));
    EXPECT_EQ(r.ec, file_errc::gzip_truncated) << cut << " " << r.message;
    EXPECT_NE(r.message.find("truncated"), std::string::npos);
  }
}

TEST(DncFileGzip, CorruptIsAnErrorAndStaysOne) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += "415" + std::to_string(2000000 + i) + "\n";
  std::string gz = gzip(data);
  for (std::size_t k = 20; k < 60; ++k) gz[k] = char(gz[k] ^ 0x5a);
  auto r = dnc_file_reader::from_memory(gz, {});
  auto res = drain(r);
  EXPECT_EQ(res.ec, file_errc::gzip_corrupt) << res.message;
  std::vector<entry> out;
  auto again = r.next_batch(out);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), file_errc::gzip_corrupt);

  // A bad CRC in the trailer is corruption too.
  std::string crc = gzip(data);
  crc[crc.size() - 6] = char(crc[crc.size() - 6] ^ 1);
  EXPECT_EQ(read_mem(crc).ec, file_errc::gzip_corrupt);
  // Garbage after the last member is not silently ignored.
  EXPECT_EQ(read_mem(gzip(data) + "trailing").ec, file_errc::gzip_corrupt);
}

TEST(DncFileGzip, ZipArchiveIsRefusedWithAHint) {
  auto r = read_mem(std::string("PK\x03\x04", 4) + "rest of a zip");
  EXPECT_EQ(r.ec, file_errc::zip_archive);
  EXPECT_NE(r.message.find("unzip"), std::string::npos);
}

TEST(DncFileLines, ReadsE164AndTenDigits) {
  auto r = read_mem("+14155552671\r\n4155552672\n\n+442079460958\n+1415555\nnope",
                    fmt(file_format::lines));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671, 14155552672, 442079460958}));
  EXPECT_EQ(r.stats.blank, 1u);
  ASSERT_EQ(r.stats.bad, 2u);
  EXPECT_EQ(r.stats.first_bad[0].line_no, 5u);
  EXPECT_EQ(r.stats.first_bad[1].line_no, 6u);
  EXPECT_EQ(r.stats.first_bad[1].text, "nope");
  expect_consistent(r);
}

TEST(DncFileCsv, PicksColumnByNameWithQuotingAndHeaderCase) {
  const std::string data =
      "\xEF\xBB\xBF"
      "Name,\"Mobile Phone\",Note\r\n"
      "\"Doe, Jane\",(415) 555-2671,\"said \"\"stop\"\"\"\r\n"
      "Bob,\"+1 415 555 2672\",\"two\nlines\"\r\n"
      "\r\n"
      "Ann,+14155550150,fictional\r\n"
      "Short\r\n"
      "Eve,\"4155552673\" ,ok\r\n"
      "Max,\"4155552674\"x,broken\r\n";
  reader_options o = fmt(file_format::csv);
  o.phone_column = "mobile PHONE";
  auto r = read_mem(data, o);
  ASSERT_FALSE(r.ec) << r.message;
  EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671, 14155552672, 14155552673}));
  EXPECT_EQ(r.stats.blank, 1u);
  ASSERT_EQ(r.stats.bad, 3u);
  // The record with a quoted newline spans lines 3-4, so line numbers stay physical.
  EXPECT_EQ(r.stats.first_bad[0].line_no, 6u);
  EXPECT_EQ(r.stats.first_bad[0].reason,
            "invalid number: 555-0100 to 555-0199 are fictional numbers");
  EXPECT_EQ(r.stats.first_bad[1].line_no, 7u);
  EXPECT_EQ(r.stats.first_bad[1].reason, "row has fewer fields than the header");
  EXPECT_EQ(r.stats.first_bad[2].line_no, 9u);
  EXPECT_EQ(r.stats.first_bad[2].reason, "malformed quoted field");
  expect_consistent(r, 1);
}

TEST(DncFileCsv, ChunkBoundariesAndLongQuotedRecordsDoNotChangeTheResult) {
  std::string data = "id,Phone,note\r\n";
  for (int i = 0; i < 300; ++i) {
    data += std::to_string(i) + ",\"+1 415 " + std::to_string(2000000 + i * 13) + "\",";
    if (i % 17 == 0) data += "\"quoted\nnewline\"";
    if (i % 29 == 0) data += "\"" + std::string(200, 'q') + "\n" + std::string(900, 'r') + "\"";
    data += "\r\n";
  }
  const auto want = read_mem(data, fmt(file_format::csv));
  ASSERT_FALSE(want.ec) << want.message;
  EXPECT_GT(want.stats.numbers, 280u);
  EXPECT_GT(want.stats.bad, 0u);  // the records over 1 KiB
  for (std::size_t chunk : {1, 5, 64, 1000}) {
    reader_options o = fmt(file_format::csv);
    o.chunk_bytes = chunk;
    auto got = read_mem(data, o, 7);
    ASSERT_FALSE(got.ec) << got.message;
    EXPECT_EQ(values(got), values(want)) << chunk;
    EXPECT_EQ(got.stats.lines, want.stats.lines);
    ASSERT_EQ(got.stats.first_bad.size(), want.stats.first_bad.size());
    for (std::size_t k = 0; k < got.stats.first_bad.size(); ++k) {
      EXPECT_EQ(got.stats.first_bad[k].line_no, want.stats.first_bad[k].line_no);
      EXPECT_EQ(got.stats.first_bad[k].text, want.stats.first_bad[k].text);
    }
    expect_consistent(got, 1);
  }
}

TEST(DncFileCsv, MissingColumnNamesItAndTheHeadersFound) {
  reader_options o = fmt(file_format::csv);
  auto r = read_mem("name,\"e-mail\",Tel\n+14155552671\n", o);
  EXPECT_EQ(r.ec, file_errc::csv_missing_column);
  EXPECT_NE(r.message.find("no column \"phone\""), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("\"name\", \"e-mail\", \"Tel\""), std::string::npos) << r.message;
  EXPECT_TRUE(r.entries.empty());
}

TEST(DncFileCsv, NoHeaderIsAnError) {
  for (std::string data : {"", "\n\r\n", "\xEF\xBB\xBF"}) {
    auto r = read_mem(data, fmt(file_format::csv));
    EXPECT_EQ(r.ec, file_errc::csv_no_header) << r.message;
  }
}

TEST(DncFileCsv, CustomDelimiter) {
  reader_options o = fmt(file_format::csv);
  o.delimiter = ';';
  o.phone_column = "tel";
  auto r = read_mem("id;TEL\n1;415.555.2671\n", o);
  ASSERT_FALSE(r.ec) << r.message;
  EXPECT_EQ(values(r), (std::vector<std::uint64_t>{14155552671}));
}

TEST(DncFileChanges, DefaultLayoutAddsAndDeletesWithDates) {
  auto r = read_mem(
      "4155552671,2024-03-01,A\r\n4155552672,20240302,D\n"
      "\"4155552673\",03/04/2024,add\n4155552674,2024/03/05 12:30:00,DELETE\n",
      fmt(file_format::ftc_changes));
  ASSERT_FALSE(r.ec) << r.message;
  ASSERT_EQ(r.entries.size(), 4u);
  EXPECT_EQ(r.entries[0].op, change_op::add);
  EXPECT_EQ(r.entries[1].op, change_op::remove);
  EXPECT_EQ(r.entries[2].op, change_op::add);
  EXPECT_EQ(r.entries[3].op, change_op::remove);
  EXPECT_EQ(r.entries[0].date, sys_days(2024y / March / 1));
  EXPECT_EQ(r.entries[1].date, sys_days(2024y / March / 2));
  EXPECT_EQ(r.entries[2].date, sys_days(2024y / March / 4));
  EXPECT_EQ(r.entries[3].date, sys_days(2024y / March / 5));
  EXPECT_EQ(r.entries[3].number.value(), 14155552674u);
  expect_consistent(r);
}

TEST(DncFileChanges, CustomColumnsFlagsAndSplitNumber) {
  reader_options o = fmt(file_format::ftc_changes);
  o.delimiter = '|';
  o.flag_column = 0;
  o.number_column = 2;  // NPA
  o.local_column = 3;   // 7 digits
  o.date_column = -1;
  o.add_flag = "N";
  o.delete_flag = "X";
  auto r = read_mem(
      "N|ignored|415|5552671\nx|ignored|212|5552672|extra\nA|z|415|5552673\n"
      "N|z|415|555267\nN|z|4155|552671\nN|z|415\n\n",
      o);
  ASSERT_FALSE(r.ec) << r.message;
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].number.value(), 14155552671u);
  EXPECT_EQ(r.entries[0].op, change_op::add);
  EXPECT_EQ(r.entries[0].date, sys_days{});
  EXPECT_EQ(r.entries[1].number.value(), 12125552672u);
  EXPECT_EQ(r.entries[1].op, change_op::remove);
  ASSERT_EQ(r.stats.bad, 4u);
  EXPECT_EQ(r.stats.first_bad[0].line_no, 3u);
  EXPECT_EQ(r.stats.first_bad[0].reason, "unknown add/delete flag");
  EXPECT_EQ(r.stats.first_bad[1].reason, "number: expected 7 local digits");
  EXPECT_EQ(r.stats.first_bad[2].reason, "number: expected a 3-digit area code");
  EXPECT_EQ(r.stats.first_bad[3].reason, "too few fields for the configured columns");
  EXPECT_EQ(r.stats.blank, 1u);
  expect_consistent(r);
}

TEST(DncFileChanges, BadDatesAndNumbersAreBadLines) {
  auto r = read_mem(
      "4155552671,2024-02-30,A\n4155552671,yesterday,A\n4115552671,2024-01-01,A\n"
      "415555267,2024-01-01,A\n4155552671,2024-01-01,Q\n",
      fmt(file_format::ftc_changes));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.stats.numbers, 0u);
  ASSERT_EQ(r.stats.bad, 5u);
  EXPECT_EQ(r.stats.first_bad[0].reason.substr(0, 5), "date:");
  EXPECT_EQ(r.stats.first_bad[1].reason.substr(0, 5), "date:");
  EXPECT_EQ(r.stats.first_bad[2].reason, "invalid number: N11 codes are not area codes");
  EXPECT_EQ(r.stats.first_bad[3].reason, "number: expected 10 digits");
  EXPECT_EQ(r.stats.first_bad[4].reason, "unknown add/delete flag");
}

TEST(DncFileChanges, DateTable) {
  struct {
    std::string_view text;
    bool ok;
  } cases[] = {{"2024-03-01", true},  {"2024/03/01", true},           {"20240301", true},
               {"03/01/2024", true},  {"2024-03-01T10:00:00Z", true}, {"2024-03-01 10:00", true},
               {"2024-13-01", false}, {"2023-02-29", false},          {"2024-3-1", false},
               {"", false},           {"2024-03-01 noon", false},     {"2024-03/01", false}};
  for (const auto& c : cases) {
    sys_days d{};
    EXPECT_EQ(detail::parse_change_date(c.text, d), c.ok) << c.text;
  }
}

TEST(DncFileOptions, ChecksColumnsFlagsAndBounds) {
  EXPECT_FALSE(check_reader_options({}));
  auto with = [](auto change) {
    reader_options o = fmt(file_format::ftc_changes);
    change(o);
    return check_reader_options(o);
  };
  EXPECT_FALSE(with([](reader_options&) {}));
  EXPECT_EQ(with([](reader_options& o) { o.flag_column = 0; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.number_column = -1; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.flag_column = 64; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.local_column = 1; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.add_flag = "d"; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.delete_flag = ""; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.delimiter = '"'; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.max_line_bytes = 8; }), file_errc::bad_options);
  EXPECT_EQ(with([](reader_options& o) { o.chunk_bytes = 0; }), file_errc::bad_options);
  EXPECT_FALSE(with([](reader_options& o) {
    o.date_column = -1;
    o.local_column = 1;
  }));

  reader_options bad_csv = fmt(file_format::csv);
  bad_csv.phone_column = " ";
  EXPECT_EQ(check_reader_options(bad_csv), file_errc::bad_options);
  EXPECT_EQ(read_mem("x\n", bad_csv).ec, file_errc::bad_options);
  test::temp_dir dir;
  EXPECT_EQ(dnc_file_reader::open(dir.write("f", "x"), bad_csv).error(), file_errc::bad_options);
}

TEST(DncFileOpen, MissingFileAndDirectoryAreErrors) {
  test::temp_dir dir;
  auto missing = dnc_file_reader::open(dir.path() / "nope.txt", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), boost::system::errc::no_such_file_or_directory);
  auto d = dnc_file_reader::open(dir.path(), {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), boost::system::errc::is_a_directory);
}

TEST(DncFileOpen, ReportsSizeAndProgressForAPlainFile) {
  test::temp_dir dir;
  std::string data;
  for (int i = 0; i < 1000; ++i) data += "415" + std::to_string(2000000 + i) + "\n";
  reader_options o;
  o.chunk_bytes = 1000;
  auto r = dnc_file_reader::open(dir.write("list.txt", data), o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats().file_size, data.size());
  std::vector<entry> out;
  ASSERT_TRUE(*r->next_batch(out, 10));
  EXPECT_GT(r->stats().bytes_in, 0u);
  EXPECT_LT(r->stats().bytes_in, data.size());
  auto all = drain(*r);
  EXPECT_EQ(all.stats.numbers, 1000u);
  EXPECT_EQ(all.stats.bytes_in, data.size());
}

}  // namespace
}  // namespace stopgate::dnc::lists
