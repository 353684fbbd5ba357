// One SIP message (RFC 3261 section 7) parsed into views: start line, headers (compact forms
// folded to their long identity), the Via values split out, the fields every response echoes
// (From and To with their tags, Call-ID, CSeq), Max-Forwards, Content-Length and the body.
//
// Pure and allocation-light: parse() works in place on the caller's bytes (folded header
// lines are unfolded by overwriting their line breaks with spaces), and every view points
// into those bytes. It never throws and never reads past the given size; anything it cannot
// make sense of comes back as a parse_error whose phrase a 400 response can carry.
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace stopgate::gateway::dialer::sip {

/// Headers the gate reads, by identity (long and compact names alike).
enum class header_id : std::uint8_t {
  other,
  via,
  from,
  to,
  call_id,
  cseq,
  max_forwards,
  content_length,
  contact,
  require,
  proxy_require,
};

struct header {
  std::string_view name;   // as written
  std::string_view value;  // trimmed, unfolded
  header_id id = header_id::other;
};

/// One Via value: "SIP/2.0/UDP host:port;branch=z9hG4bK...;rport".
struct via_value {
  std::string_view text;       // the whole value
  std::string_view transport;  // "UDP", "TCP", ...
  std::string_view host;       // without brackets for an IPv6 reference
  std::uint16_t port = 0;      // 0: absent
  std::string_view sent_by;    // "host:port" as written
  std::string_view branch;     // "" when absent
  bool rport = false;          // the rport parameter is present (RFC 3581)
};

struct cseq_value {
  std::uint32_t number = 0;
  std::string_view method;
};

enum class parse_error : std::uint8_t {
  none,
  empty,  // only CRLFs (a keep-alive): nothing to answer
  bad_start_line,
  bad_version,
  bad_header,
  too_many_headers,
  missing_via,
  bad_via,
  missing_from,
  bad_from,
  missing_to,
  bad_to,
  missing_call_id,
  duplicate_header,
  missing_cseq,
  bad_cseq,
  cseq_method_mismatch,
  bad_max_forwards,
  bad_content_length,
};
/// The reason phrase of a 400 for this error ("Malformed Via", "Missing Call-ID", ...).
std::string_view reason_phrase(parse_error e) noexcept;

class message {
 public:
  static constexpr std::size_t max_headers = 96;
  static constexpr std::size_t max_vias = 16;

  /// Parses the whole message in [data, data + size) in place. On an error the fields read
  /// so far are kept, so the caller can tell whether a response can still be built
  /// (answerable()).
  parse_error parse(char* data, std::size_t size);

  bool is_request() const noexcept { return request_; }
  std::string_view method() const noexcept { return method_; }
  std::string_view uri() const noexcept { return uri_; }
  int status() const noexcept { return status_; }

  const boost::container::small_vector<header, 16>& headers() const noexcept { return headers_; }
  /// The first value of a header by name (case-insensitive; compact forms match), "" if none.
  std::string_view header_value(std::string_view name) const noexcept;

  const boost::container::small_vector<via_value, 2>& vias() const noexcept { return vias_; }
  std::string_view from() const noexcept { return from_; }
  std::string_view from_tag() const noexcept { return from_tag_; }
  std::string_view to() const noexcept { return to_; }
  std::string_view to_tag() const noexcept { return to_tag_; }
  std::string_view call_id() const noexcept { return call_id_; }
  const cseq_value& cseq() const noexcept { return cseq_; }
  std::optional<std::uint32_t> max_forwards() const noexcept { return max_forwards_; }
  std::optional<std::size_t> content_length() const noexcept { return content_length_; }
  std::string_view body() const noexcept { return body_; }

  /// A request whose Via, From, To, Call-ID and CSeq parsed: a response can be built.
  bool answerable() const noexcept {
    return request_ && !vias_.empty() && !via_broken_ && !from_.empty() && !to_.empty() &&
           !call_id_.empty() && !cseq_.method.empty();
  }

 private:
  parse_error parse_headers(char* p, char* end, char*& body, parse_error& field_error);
  parse_error take(const header& h);

  bool request_ = false;
  std::string_view method_, uri_;
  int status_ = 0;
  boost::container::small_vector<header, 16> headers_;
  boost::container::small_vector<via_value, 2> vias_;
  bool via_broken_ = false;
  std::string_view from_, from_tag_, to_, to_tag_, call_id_;
  cseq_value cseq_;
  std::optional<std::uint32_t> max_forwards_;
  std::optional<std::size_t> content_length_;
  std::string_view body_;
};

/// The long-name identity of a header name (compact forms included).
header_id identify(std::string_view name) noexcept;

/// Parses one Via value. nullopt when malformed.
std::optional<via_value> parse_via(std::string_view text) noexcept;

/// The value of parameter `name` ("tag") of a From/To/Contact value, looked for after the URI
/// (outside quotes and <...>); nullopt when absent, "" for a parameter without a value.
std::optional<std::string_view> header_param(std::string_view value,
                                             std::string_view name) noexcept;

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace stopgate::gateway::dialer::sip
