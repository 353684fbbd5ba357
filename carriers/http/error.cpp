#include "carriers/http/error.hpp"

#include <curl/curl.h>

#include <string>

namespace stopgate::carriers::http {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.http"; }
  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::timeout: return "HTTP request timed out";
      case client_errc::connect_failed: return "could not connect";
      case client_errc::tls_failed: return "TLS handshake or certificate verification failed";
      case client_errc::dns_failed: return "host name did not resolve";
      case client_errc::send_failed: return "connection failed while sending the request";
      case client_errc::recv_failed: return "connection failed while receiving the response";
      case client_errc::too_large: return "response larger than the configured limit";
      case client_errc::stopped: return "HTTP client stopped";
      case client_errc::curl_error: return "libcurl error";
      case client_errc::invalid_request: return "invalid HTTP request";
      case client_errc::overloaded: return "too many HTTP requests in flight";
    }
    return "unknown HTTP client error";
  }
};

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const category_impl cat;
  return cat;
}

client_errc errc_from_curl(int curl_code, bool cap_hit) noexcept {
  // Our write/header callbacks abort with a write error when the cap is hit.
  if (cap_hit) return client_errc::too_large;
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OPERATION_TIMEDOUT: return client_errc::timeout;
    case CURLE_COULDNT_CONNECT: return client_errc::connect_failed;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return client_errc::dns_failed;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED: return client_errc::tls_failed;
    case CURLE_SEND_ERROR: return client_errc::send_failed;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_FAIL_REWIND:  // a reused connection died after the body went out (no resend)
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING: return client_errc::recv_failed;
    case CURLE_FILESIZE_EXCEEDED: return client_errc::too_large;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return client_errc::invalid_request;
    default: return client_errc::curl_error;
  }
}

}  // namespace stopgate::carriers::http
