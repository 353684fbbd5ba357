// Small typed values used by the settings: times of day, weekly calling windows, listen
// addresses, secrets, and the parsers that turn config text into them.
//
// Every parser returns std::nullopt (or false) on bad input and never throws; the loader turns
// that into a problem that names the key path.
#pragma once

#include <date/date.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stopgate::config {

/// Minutes since local midnight, 0..1440 (1440 is "24:00", usable only as a window end).
struct minute_of_day {
  std::uint16_t minutes = 0;
  friend constexpr auto operator<=>(minute_of_day, minute_of_day) = default;
};

/// A half-open local-time window [start, end). start < end always holds.
struct time_window {
  minute_of_day start;
  minute_of_day end;
  constexpr bool contains(minute_of_day m) const noexcept { return start <= m && m < end; }
  friend constexpr bool operator==(time_window, time_window) = default;
};

/// One window (or none: no contact that day) per weekday, indexed by
/// date::weekday::c_encoding() (0 = Sunday ... 6 = Saturday).
struct week_windows {
  std::array<std::optional<time_window>, 7> days;
  const std::optional<time_window>& on(date::weekday wd) const { return days[wd.c_encoding()]; }
  static week_windows every_day(time_window w) {
    week_windows ww;
    ww.days.fill(w);
    return ww;
  }
  friend bool operator==(const week_windows&, const week_windows&) = default;
};

/// "HH:MM" (00:00..24:00) to minutes.
std::optional<minute_of_day> parse_hhmm(std::string_view text) noexcept;
/// "HH:MM-HH:MM" with start < end.
std::optional<time_window> parse_window(std::string_view text) noexcept;
/// "HH:MM" for logs and messages.
std::string format_hhmm(minute_of_day m);
/// "YYYY-MM-DD", a valid calendar date with a year in 2000..2199.
std::optional<date::year_month_day> parse_date(std::string_view text) noexcept;

/// A host and port to listen on: "127.0.0.1:7600", "[::1]:7600", "0.0.0.0:7600".
struct listen_address {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string to_string() const;
  friend bool operator==(const listen_address&, const listen_address&) = default;
};
/// "HOST:PORT" with PORT in 0..65535 (0 = any free port, for tests). HOST is an IPv4 or
/// bracketed IPv6 literal or a host name.
std::optional<listen_address> parse_listen_address(std::string_view text);

/// True for '+' then 7 to 15 digits, the first not 0 (the E.164 shape; the NANP rules live in
/// dnc/phone_number, which config cannot depend on).
bool is_e164_shape(std::string_view text) noexcept;

/// True for an absolute http:// or https:// URL with a host, no user info and no fragment.
bool is_http_url(std::string_view text) noexcept;

/// A secret (carrier token, signing key). It never prints itself: describe() says where it
/// came from ("env:NAME" or "inline") so logs can mention it without revealing it.
class secret {
 public:
  secret() = default;
  static secret from_inline(std::string value) { return secret(std::move(value), {}); }
  static secret from_env(std::string name, std::string value) {
    return secret(std::move(value), std::move(name));
  }
  bool empty() const noexcept { return value_.empty(); }
  /// The secret bytes. Use only to sign or verify; never log.
  const std::string& reveal() const noexcept { return value_; }
  std::string describe() const { return env_.empty() ? "inline" : "env:" + env_; }
  /// The same origin with a decoded value (e.g. hex text -> key bytes).
  secret with_value(std::string value) const { return secret(std::move(value), env_); }
  friend bool operator==(const secret&, const secret&) = default;

 private:
  secret(std::string value, std::string env) : value_(std::move(value)), env_(std::move(env)) {}
  std::string value_;
  std::string env_;
};

/// Decodes standard base64 (with or without '=' padding). nullopt on any bad character.
std::optional<std::string> decode_base64(std::string_view text);
/// Decodes lowercase or uppercase hex of even length.
std::optional<std::string> decode_hex(std::string_view text);

}  // namespace stopgate::config
