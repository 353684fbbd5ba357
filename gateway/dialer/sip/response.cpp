#include "gateway/dialer/sip/response.hpp"

#include <boost/asio/ip/address.hpp>

namespace stopgate::gateway::dialer::sip {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The top Via as the server transport saw it (RFC 3261 18.2.1, RFC 3581 section 4).
void append_top_via(std::string& out, const via_value& v, const peer& from) {
  const std::string source = from.addr.to_string();
  std::string_view text = v.text;
  std::size_t semi = text.find(';');
  out.append(trim(text.substr(0, semi)));
  bool rport = false;
  while (semi != std::string_view::npos) {
    std::size_t next = text.find(';', semi + 1);
    std::string_view p =
        trim(text.substr(semi + 1, next == std::string_view::npos ? next : next - semi - 1));
    semi = next;
    std::string_view name = trim(p.substr(0, p.find('=')));
    if (iequals(name, "received")) continue;  // ours replaces a stale one
    if (iequals(name, "rport")) {
      rport = true;
      out.append(";rport=").append(std::to_string(from.port));
      continue;
    }
    out.push_back(';');
    out.append(p);
  }
  boost::system::error_code ec;
  auto host = boost::asio::ip::make_address(std::string(v.host), ec);
  if (rport || ec || host != from.addr) out.append(";received=").append(source);
}

}  // namespace

std::string echo_headers(const message& req, const peer& from, std::string_view to_tag) {
  std::string out;
  out.reserve(256 + req.from().size() + req.to().size() + req.call_id().size());
  const auto& vias = req.vias();
  for (std::size_t i = 0; i < vias.size(); ++i) {
    out.append("Via: ");
    if (i == 0)
      append_top_via(out, vias[i], from);
    else
      out.append(vias[i].text);
    out.append("\r\n");
  }
  out.append("From: ").append(req.from()).append("\r\n");
  out.append("To: ").append(req.to());
  if (req.to_tag().empty() && !to_tag.empty()) out.append(";tag=").append(to_tag);
  out.append("\r\n");
  out.append("Call-ID: ").append(req.call_id()).append("\r\n");
  out.append("CSeq: ")
      .append(std::to_string(req.cseq().number))
      .append(" ")
      .append(req.cseq().method)
      .append("\r\n");
  return out;
}

std::string render_response(int status, std::string_view phrase, std::string_view echo,
                            const response_extras& x) {
  std::string out;
  out.reserve(echo.size() + 192 + x.contact.size() + x.reason.size());
  out.append("SIP/2.0 ").append(std::to_string(status)).append(" ").append(phrase).append("\r\n");
  out.append(echo);
  if (!x.contact.empty()) out.append("Contact: ").append(x.contact).append("\r\n");
  if (!x.reason.empty()) out.append("Reason: ").append(x.reason).append("\r\n");
  if (x.retry_after)
    out.append("Retry-After: ").append(std::to_string(*x.retry_after)).append("\r\n");
  if (!x.unsupported.empty()) out.append("Unsupported: ").append(x.unsupported).append("\r\n");
  if (x.allow) out.append("Allow: INVITE, ACK, CANCEL, OPTIONS\r\n");
  out.append("Server: stopgate\r\nContent-Length: 0\r\n\r\n");
  return out;
}

peer response_destination(const via_value& top, const peer& from) {
  if (from.reliable()) return from;
  peer to = from;
  if (!top.rport) to.port = top.port ? top.port : 5060;
  return to;
}

std::string_view standard_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Trying";
    case 200:
      return "OK";
    case 302:
      return "Moved Temporarily";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 405:
      return "Method Not Allowed";
    case 416:
      return "Unsupported URI Scheme";
    case 420:
      return "Bad Extension";
    case 480:
      return "Temporarily Unavailable";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 483:
      return "Too Many Hops";
    case 484:
      return "Address Incomplete";
    case 487:
      return "Request Terminated";
    case 500:
      return "Server Internal Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "Version Not Supported";
    case 513:
      return "Message Too Large";
    case 603:
      return "Decline";
    case 608:
      return "Rejected";
  }
  return "";
}

}  // namespace stopgate::gateway::dialer::sip
