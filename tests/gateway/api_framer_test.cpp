// The socket API's sans-I/O pieces: line framing, request decoding, response serialisation.
#include "gateway/api/line_framer.hpp"
#include "gateway/api/request_decoder.hpp"
#include "gateway/api/response_writer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace api = stopgate::gateway::api;

namespace {

/// Feeds `input` in chunks of `chunk` bytes and returns "L:<line>" / "TOO_LONG" per event.
std::vector<std::string> frame(std::string_view input, std::size_t chunk, std::size_t max_line,
                               bool finish = true) {
  api::line_framer f(max_line, 64);
  std::vector<std::string> out;
  auto drain = [&] {
    for (;;) {
      auto ev = f.next();
      if (ev.what == api::frame_event::kind::need_more) break;
      out.push_back(ev.what == api::frame_event::kind::line ? "L:" + std::string(ev.line) : "TOO_LONG");
    }
  };
  std::size_t pos = 0;
  while (pos < input.size()) {
    auto space = f.prepare();
    std::size_t n = std::min({chunk, space.size(), input.size() - pos});
    std::memcpy(space.data(), input.data() + pos, n);
    f.commit(n);
    pos += n;
    drain();
  }
  if (finish) {
    auto ev = f.finish();
    if (ev.what == api::frame_event::kind::line) out.push_back("L:" + std::string(ev.line));
    if (ev.what == api::frame_event::kind::too_long) out.push_back("TOO_LONG");
  }
  return out;
}

}  // namespace

TEST(ApiFramer, SplitsLinesAcceptsCrLfAndSkipsBlankLines) {
  auto out = frame("a\nb\r\n\n\r\nc\r\r\n", 1000, 100);
  EXPECT_EQ(out, (std::vector<std::string>{"L:a", "L:b", "L:c\r"}));
}

// A line of JSON whitespace holds no request: skipped like an empty one (no answer, and so
// no activity that would keep an idle connection open), also as the unterminated last line.
TEST(ApiFramer, WhitespaceOnlyLinesAreSkippedLikeEmptyOnes) {
  EXPECT_EQ(frame("a\n \n\t \r\n \r\r\nb\n  ", 1000, 100),
            (std::vector<std::string>{"L:a", "L:b"}));
  EXPECT_EQ(frame(" x \n", 1, 100), (std::vector<std::string>{"L: x "}));
  // Over the limit it is still a line_too_long: the limit is decided before the content.
  EXPECT_EQ(frame(std::string(101, ' ') + "\n", 7, 100), (std::vector<std::string>{"TOO_LONG"}));
}

TEST(ApiFramer, OutcomeDoesNotDependOnChunking) {
  std::string input = "{\"op\":\"ping\"}\n" + std::string(300, 'x') + "\r\nshort\r\n" +
                      std::string(101, 'y') + "\n" + std::string(100, 'z') + "\r\n" + "tail";
  auto whole = frame(input, input.size(), 100);
  ASSERT_EQ(whole, (std::vector<std::string>{"L:{\"op\":\"ping\"}", "TOO_LONG", "L:short", "TOO_LONG",
                                             "L:" + std::string(100, 'z'), "L:tail"}));
  for (std::size_t chunk = 1; chunk <= 70; ++chunk) {
    EXPECT_EQ(frame(input, chunk, 100), whole) << "chunk " << chunk;
  }
}

TEST(ApiFramer, LongLineAcrossManyReadsIsReportedOnceAndSkipped) {
  std::string input = std::string(100000, 'q') + "\n{\"op\":\"ping\"}\n";
  auto out = frame(input, 1000, 256);
  EXPECT_EQ(out, (std::vector<std::string>{"TOO_LONG", "L:{\"op\":\"ping\"}"}));
}

TEST(ApiFramer, LimitCountsContentNotTerminator) {
  EXPECT_EQ(frame(std::string(10, 'a') + "\r\n", 3, 10),
            (std::vector<std::string>{"L:" + std::string(10, 'a')}));
  EXPECT_EQ(frame(std::string(11, 'a') + "\n", 3, 10), (std::vector<std::string>{"TOO_LONG"}));
}

TEST(ApiFramer, UnterminatedLastLineIsDeliveredOnlyAtFinish) {
  EXPECT_EQ(frame("x\nlast", 2, 10, false), (std::vector<std::string>{"L:x"}));
  EXPECT_EQ(frame("x\nlast", 2, 10, true), (std::vector<std::string>{"L:x", "L:last"}));
}

namespace {
struct decoded {
  bool ok;
  std::string code_or_op;
  std::string id;
  std::string message;
};
decoded decode(std::string_view line) {
  static api::request_decoder decoder;
  std::optional<boost::json::value> value;
  boost::json::monotonic_resource mr;
  auto r = decoder.decode(line, value, boost::json::storage_ptr(&mr));
  if (r) return {true, std::string(r->op), std::string(r->id), ""};
  return {false, std::string(api::to_string(r.error().code)), std::string(r.error().id),
          r.error().message};
}
}  // namespace

TEST(ApiDecoder, KeepsTheRawIdText) {
  for (std::string id : {"\"abc\"", "\"a\\\"b\\u00e9\"", "42", "-7", "1.50", "1e3",
                         "123456789012345678901234567890", "0"}) {
    auto d = decode("{\"op\":\"check\", \"to\":[1,{\"id\":9}], \"id\" : " + id + " }");
    EXPECT_TRUE(d.ok) << id;
    EXPECT_EQ(d.id, id);
    EXPECT_EQ(d.code_or_op, "check");
  }
  EXPECT_EQ(decode("{\"op\":\"ping\"}").id, "null");
  EXPECT_EQ(decode("{\"\\u0069d\":5,\"op\":\"ping\"}").id, "5");
}

TEST(ApiDecoder, RejectsBadInputWithTheRightCode) {
  auto d = decode("{\"op\":");
  EXPECT_EQ(d.code_or_op, "bad_json");
  EXPECT_EQ(d.id, "null");
  EXPECT_EQ(decode("[1,2]").code_or_op, "bad_json");
  EXPECT_EQ(decode("\"op\"").code_or_op, "bad_json");
  EXPECT_EQ(decode("{\"op\":\"ping\"} x").code_or_op, "bad_json");
  EXPECT_EQ(decode("{\"op\":\"p\xff\"}").code_or_op, "bad_json");

  d = decode("{\"id\":3}");
  EXPECT_EQ(d.code_or_op, "bad_request");
  EXPECT_EQ(d.id, "3");
  EXPECT_NE(d.message.find("op"), std::string::npos);
  d = decode("{\"id\":\"x\",\"op\":5}");
  EXPECT_EQ(d.code_or_op, "bad_request");
  EXPECT_EQ(d.id, "\"x\"");
  for (std::string bad : {"true", "null", "{}", "[1]"}) {
    d = decode("{\"op\":\"ping\",\"id\":" + bad + "}");
    EXPECT_EQ(d.code_or_op, "bad_request") << bad;
    EXPECT_EQ(d.id, "null");
    EXPECT_NE(d.message.find("id"), std::string::npos);
  }
  EXPECT_EQ(decode("{\"op\":\"ping\",\"id\":1,\"id\":2}").code_or_op, "bad_request");
}

TEST(ApiResponse, SerialisesOkAndErrorLines) {
  std::string out;
  boost::json::serializer sr;
  boost::json::object fields{{"pong", true}, {"n", 3}};
  api::append_ok(out, "\"a\"", fields, sr);
  api::append_ok(out, "7", boost::json::object{}, sr);
  api::append_error(out, "null", api::api_errc::bad_request, "to: \"x\"\n");
  EXPECT_EQ(out,
            "{\"id\":\"a\",\"ok\":true,\"pong\":true,\"n\":3}\n"
            "{\"id\":7,\"ok\":true}\n"
            "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"bad_request\",\"message\":\"to: \\\"x\\\"\\n\"}}\n");
  // Every line is valid JSON.
  std::size_t start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    EXPECT_NO_THROW((void)boost::json::parse(out.substr(start, nl - start)));
  }
}

TEST(ApiResponse, StringsAreEscapedByteForByteAsBoostJsonDoes) {
  // Hand-written answers (append_ok_text) and serialised objects must not differ.
  std::string every;
  for (int c = 1; c < 256; ++c) every.push_back(char(c));
  for (std::string s : {every, std::string("plain"), std::string(""), std::string("a\0b", 3),
                        std::string("registry_dnc:acme \"x\"\\ \xc3\xa9\b\f\x7f")}) {
    std::string out;
    api::append_json_string(out, s);
    EXPECT_EQ(out, boost::json::serialize(boost::json::string(s)));
  }
}

TEST(ApiResponse, SerialisesOkLinesFromWrittenMembers) {
  std::string out;
  api::append_ok_text(out, "\"a\"", R"("result":{"to":"+14155552671"})");
  api::append_ok_text(out, "7", "");
  EXPECT_EQ(out, "{\"id\":\"a\",\"ok\":true,\"result\":{\"to\":\"+14155552671\"}}\n{\"id\":7,\"ok\":true}\n");
}

TEST(ApiResponse, LargeObjectsSerialiseWhole) {
  std::string out;
  boost::json::serializer sr;
  boost::json::array results;
  for (int i = 0; i < 5000; ++i) results.push_back(boost::json::object{{"to", "+14155552671"}, {"i", i}});
  boost::json::object fields{{"results", results}};
  api::append_ok(out, "1", fields, sr);
  auto v = boost::json::parse(out.substr(0, out.size() - 1)).as_object();
  EXPECT_EQ(v["results"].as_array().size(), 5000u);
  EXPECT_EQ(v["id"].as_int64(), 1);
}
