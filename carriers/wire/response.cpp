#include "carriers/wire/response.hpp"

#include "carriers/signature/webhook_request.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <date/date.h>

#include <array>
#include <charconv>

namespace stopgate::carriers::wire {
namespace {

using std::chrono::milliseconds;

milliseconds capped_seconds(std::uint64_t secs) noexcept {
  constexpr auto max_s = std::chrono::duration_cast<std::chrono::seconds>(max_retry_after);
  if (secs > static_cast<std::uint64_t>(max_s.count())) return max_retry_after;
  return std::chrono::seconds(static_cast<std::int64_t>(secs));
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<unsigned> digits(std::string_view s, std::size_t len) noexcept {
  if (s.size() != len) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + unsigned(c - '0');
  }
  return v;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 section 5.6.7).
std::optional<date::sys_seconds> parse_imf_fixdate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
      s[16] != ' ' || s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  auto day = digits(s.substr(5, 2), 2);
  auto year = digits(s.substr(12, 4), 4);
  auto hh = digits(s.substr(17, 2), 2);
  auto mm = digits(s.substr(20, 2), 2);
  auto ss = digits(s.substr(23, 2), 2);
  unsigned month = 0;
  for (unsigned i = 0; i < months.size(); ++i)
    if (s.substr(8, 3) == months[i]) month = i + 1;
  if (!day || !year || !hh || !mm || !ss || month == 0 || *hh > 23 || *mm > 59 || *ss > 60)
    return std::nullopt;
  date::year_month_day ymd{date::year(int(*year)), date::month(month), date::day(*day)};
  if (!ymd.ok()) return std::nullopt;
  return date::sys_days(ymd) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) +
         std::chrono::seconds(*ss);
}

}  // namespace

std::optional<std::string_view> find_header(const header_list& headers,
                                            std::string_view name) noexcept {
  for (const auto& [k, v] : headers)
    if (signature::iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

std::optional<milliseconds> parse_delay_seconds(std::string_view value) noexcept {
  value = trim(value);
  if (value.empty() || value.size() > 18) return std::nullopt;
  std::uint64_t secs = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
  if (ec != std::errc{} || p != value.data() + value.size()) return std::nullopt;
  return capped_seconds(secs);
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) noexcept {
  value = trim(value);
  if (auto secs = parse_delay_seconds(value)) return secs;
  auto when = parse_imf_fixdate(value);
  if (!when) return std::nullopt;
  // Compare in seconds: a far-future date in the clock's nanoseconds would overflow.
  auto now_s = std::chrono::floor<std::chrono::seconds>(now);
  if (*when <= now_s) return milliseconds(0);
  auto wait_s = *when - now_s;
  if (wait_s > max_retry_after) return max_retry_after;
  return std::chrono::duration_cast<milliseconds>(wait_s) -
         std::chrono::duration_cast<milliseconds>(now - now_s);
}

failure_class class_for_status(int status) noexcept {
  if (status == 408 || status == 429 || (status >= 500 && status <= 599))
    return failure_class::retryable;
  return failure_class::permanent;
}

std::string http_code(int status) { return "http_" + std::to_string(status); }

send_outcome failed(failure_class c, std::string code, std::string_view message) {
  send_outcome out;
  out.failure = c;
  out.error_code = std::move(code);
  out.error_message = bounded_message(message);
  return out;
}

send_outcome unreadable_response(int status, std::string_view body, const header_list& headers,
                                 std::chrono::system_clock::time_point now) {
  if (is_success(status))
    return failed(failure_class::permanent, "bad_response",
                  "unreadable success response: " + raw_snippet(body));
  send_outcome out = failed(class_for_status(status), http_code(status), raw_snippet(body));
  apply_retry_after(out, headers, now);
  return out;
}

void apply_retry_after(send_outcome& out, const header_list& headers,
                       std::chrono::system_clock::time_point now) {
  if (out.failure != failure_class::retryable) return;
  if (auto h = find_header(headers, "Retry-After"))
    if (auto wait = parse_retry_after(*h, now)) out.retry_after = *wait;
}

std::string bounded_message(std::string_view text) {
  if (text.size() <= max_error_message) return std::string(text);
  std::size_t cut = max_error_message;
  // Back up over UTF-8 continuation bytes so the cut never splits a character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut));
}

std::string raw_snippet(std::string_view body) {
  std::string out(body.substr(0, max_error_message));
  for (char& c : out)
    if (c < 0x20 || c > 0x7E) c = '?';
  return out;
}

std::optional<boost::json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) return std::nullopt;
  return v;
}

const boost::json::value* member(const boost::json::value* v, std::string_view key) noexcept {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->get_object().if_contains(key);
}

const boost::json::value* element(const boost::json::value* v, std::size_t i) noexcept {
  if (v == nullptr || !v->is_array() || v->get_array().size() <= i) return nullptr;
  return &v->get_array()[i];
}

std::optional<std::string> scalar_text(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return std::nullopt;
}

}  // namespace stopgate::carriers::wire
