#include "gateway/http/connection.hpp"

#include "gateway/api/response_writer.hpp"
#include "gateway/http/check_route.hpp"
#include "gateway/http/ops_route.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>

namespace stopgate::gateway::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
inline constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

/// After an error response the client may still be sending its body: read and discard it for
/// a while so that closing does not reset the connection before the client reads the answer.
constexpr std::size_t linger_max_bytes = 4u << 20;
constexpr auto linger_max_time = 2s;

struct log_escape {
  void operator()(const std::exception_ptr& e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("http: connection task failed: {}", x.what());
    } catch (...) {
      spdlog::error("http: connection task failed");
    }
  }
};

bool is_parse_error(const boost::system::error_code& ec) noexcept {
  static const auto& category = beast_http::make_error_code(beast_http::error::bad_target).category();
  return ec.category() == category && ec != beast_http::error::end_of_stream &&
         ec != beast_http::error::partial_message;
}

response readiness_response(const providers& p) {
  readiness r;
  if (p.ready) {
    try {
      r = p.ready();
    } catch (const std::exception& e) {
      r.missing.push_back(std::string("readiness check failed: ") + e.what());
    }
  }
  bool ok = r.ready();
  std::string body = ok ? "{\"ready\":true" : "{\"ready\":false";
  body.append(r.redis_ok ? ",\"redis_ok\":true" : ",\"redis_ok\":false");
  body.append(r.lists_loaded ? ",\"lists_loaded\":true" : ",\"lists_loaded\":false");
  body.append(",\"missing\":[");
  for (std::size_t i = 0; i < r.missing.size(); ++i) {
    if (i) body.push_back(',');
    api::append_json_string(body, r.missing[i]);
  }
  body.append("]}\n");
  auto res = response::json(ok ? 200 : 503, std::move(body));
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

response metrics_response(const server_state& st) {
  std::vector<metric_family> families;
  if (st.provide.metrics) {
    try {
      families = st.provide.metrics();
    } catch (const std::exception& e) {
      spdlog::error("http: the metrics provider failed: {}", e.what());
      return response::text(500, "metrics unavailable\n");
    }
  }
  auto own = st.counters.families(st.route_labels);
  families.insert(families.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
  response res;
  res.content_type = exposition_content_type;
  res.body = format_exposition(families);
  return res;
}

template <class Stream>
class connection final : public connection_base,
                         public std::enable_shared_from_this<connection<Stream>> {
 public:
  connection(std::shared_ptr<server_state> state, tcp::socket socket,
             std::shared_ptr<asio::ssl::context> tls, std::size_t index,
             const asio::ip::address& peer, bool loopback)
      : state_(std::move(state)),
        tls_(std::move(tls)),
        stream_(make_stream(std::move(socket), tls_)),
        index_(index),
        block_(state_->counters.block(index)),
        peer_(peer),
        loopback_(loopback),
        snap_(state_->snapshot()) {}

  void start() {
    auto self = this->shared_from_this();
    state_->add_connection(self);
    block_.add(block_.connections_open, 1);
    block_.add(block_.connections_total);
    asio::co_spawn(stream_.get_executor(), run(self), log_escape{});
  }

  void begin_shutdown() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->shutdown_ = true;
      // Waiting for a request that has not started: nothing is in flight, close now.
      if (self->awaiting_request_ && !(self->parser_ && self->parser_->got_some())) {
        tcp_layer(self->stream_).cancel();
      }
    });
  }

  void force_close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_socket(); });
  }

 private:
  using parser_type = beast_http::request_parser<beast_http::string_body>;

  static Stream make_stream(tcp::socket socket, const std::shared_ptr<asio::ssl::context>& tls) {
    if constexpr (is_tls<Stream>) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  static beast::tcp_stream& tcp_layer(Stream& s) { return beast::get_lowest_layer(s); }

  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(std::max<std::uint32_t>(1, snap_->settings->http.read_timeout_ms));
  }

  awaitable<void> run([[maybe_unused]] std::shared_ptr<connection> self) {
    bool graceful = true;
    bool linger = false;
    if constexpr (is_tls<Stream>) {
      tcp_layer(stream_).expires_after(timeout());
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (ec) {
        spdlog::debug("http: TLS handshake failed: {}", ec.message());
        graceful = false;
      }
    }
    // A connection that slipped in while the server began stopping is not served.
    while (graceful && !shutdown_ && !closed_ && !state_->stopping.load()) {
      auto next = co_await serve_one();
      if (next == outcome::keep_alive) continue;
      graceful = next != outcome::broken;
      linger = next == outcome::linger;
      break;
    }
    if (graceful && !closed_) co_await close_gracefully(linger);
    close_socket();
    finish();
  }

  enum class outcome { keep_alive, close, linger, broken };

  /// Picks up a reloaded configuration (one relaxed load when nothing changed).
  void refresh_snapshot() {
    if (state_->generation() != snap_->generation) snap_ = state_->snapshot();
  }

  awaitable<outcome> serve_one() {
    refresh_snapshot();
    const auto& limits = snap_->settings->http;
    parser_.emplace();
    parser_->header_limit(limits.max_header_bytes);
    parser_->body_limit(std::uint64_t(limits.max_body_bytes));
    // The parser waits for a whole chunk-size line, or a whole trailer section, in the buffer:
    // bounding the buffer bounds both, before anyone is authenticated. The body itself is
    // moved out of the buffer as it is parsed, so body reads only get smaller.
    buffer_.max_size(std::max<std::size_t>(limits.max_header_bytes, buffer_.size()));
    ext_budget_ = limits.max_header_bytes;
    ext_over_budget_ = false;
    parser_->on_chunk_header(on_chunk_header_);
    // One deadline for the whole request (header, 100-continue, body): a slow client is cut off.
    tcp_layer(stream_).expires_after(timeout());
    awaiting_request_ = true;
    auto [ec, n] = co_await beast_http::async_read_header(stream_, buffer_, *parser_, nothrow);
    awaiting_request_ = false;
    block_.add(block_.bytes_in, n);
    if (!ec && !parser_->is_done()) {
      if (beast::iequals(parser_->get()[beast_http::field::expect], "100-continue")) {
        beast_http::response<beast_http::empty_body> go_on{beast_http::status::continue_, 11};
        auto [wec, wn] = co_await beast_http::async_write(stream_, go_on, nothrow);
        block_.add(block_.bytes_out, wn);
        if (wec) co_return outcome::broken;
      }
      auto [rec, rn] = co_await beast_http::async_read(stream_, buffer_, *parser_, nothrow);
      block_.add(block_.bytes_in, rn);
      ec = rec;
    }
    if (ec) co_return co_await answer_read_error(ec);
    // A keep-alive connection may have waited through a reload: keys apply to this request.
    refresh_snapshot();

    auto started = clock::now();
    block_.add(block_.in_flight, 1);
    std::size_t route_index = unmatched_route;
    response res = co_await respond(route_index);
    block_.add(block_.in_flight, -1);
    bool keep = parser_->get().keep_alive() && !shutdown_ && !state_->stopping.load();
    // Counted before the write: a client holding the response sees it counted.
    state_->counters.count_request(index_, route_index, res.status,
                                   std::chrono::duration<double>(clock::now() - started).count());
    bool written = co_await write(res, keep, parser_->get().version());
    if (!written) co_return outcome::broken;
    co_return keep ? outcome::keep_alive : outcome::close;
  }

  /// Chunk extensions are read and ignored (RFC 9112 section 7.1.1); their total per request
  /// is bounded by http.max_header_bytes like the header section.
  void chunk_header(std::uint64_t, beast::string_view extensions, boost::system::error_code& ec) {
    if (extensions.size() > ext_budget_) {
      ext_over_budget_ = true;
      ec = beast_http::error::bad_chunk_extension;
      return;
    }
    ext_budget_ -= extensions.size();
  }

  /// The buffer filled up while the parser waited for the end of a chunk-size line or of the
  /// trailer section. Only the final chunk's line stays in the buffer once complete, so a line
  /// end after the leading CRLF means the trailers are what did not fit.
  bool overflowed_in_trailers() const {
    std::string_view held(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    if (held.starts_with("\r\n")) held.remove_prefix(2);
    return held.find("\r\n") != std::string_view::npos;
  }

  /// Answers a request that could not be read (limits, malformed) and says how to close.
  awaitable<outcome> answer_read_error(const boost::system::error_code& ec) {
    response res;
    const std::string header_limit = std::to_string(snap_->settings->http.max_header_bytes);
    const bool overflow = ec == beast_http::error::buffer_overflow;
    if (ec == beast_http::error::header_limit ||
        (overflow && (!parser_->is_header_done() || overflowed_in_trailers()))) {
      res = response::json_error(
          431, "headers_too_large",
          std::string(overflow && parser_->is_header_done() ? "request trailers"
                                                            : "request headers") +
              " exceed http.max_header_bytes (" + header_limit + ")");
    } else if (overflow || ext_over_budget_) {
      res = response::json_error(400, "chunk_header_too_large",
                                 std::string(overflow ? "a chunk-size line with its extensions"
                                                      : "the chunk extensions of the request") +
                                     " exceed http.max_header_bytes (" + header_limit + ")");
    } else if (ec == beast_http::error::body_limit) {
      res = response::json_error(413, "body_too_large",
                                 "request body exceeds http.max_body_bytes (" +
                                     std::to_string(snap_->settings->http.max_body_bytes) + ")");
    } else if (is_parse_error(ec)) {
      res = response::json_error(400, "bad_request", "malformed HTTP request: " + ec.message());
    } else {
      // End of stream, timeout, reset, cancelled by shutdown: nobody to answer.
      if (ec != beast_http::error::end_of_stream && ec != beast::error::timeout) {
        spdlog::debug("http: read failed: {}", ec.message());
      }
      co_return ec == beast_http::error::end_of_stream ? outcome::close : outcome::broken;
    }
    state_->counters.count_request(index_, unmatched_route, res.status, 0);
    bool written = co_await write(res, false, 11);
    co_return written ? outcome::linger : outcome::broken;
  }

  awaitable<response> respond(std::size_t& route_index) {
    const auto& msg = parser_->get();
    request req;
    req.method = msg.method();
    req.target = msg.target();
    std::tie(req.path, req.query) = split_target(req.target);
    req.body = msg.body();
    req.fields = &msg.base();
    req.peer = peer_;
    req.loopback = loopback_;
    req.worker = unsigned(index_);
    req.settings = snap_->settings.get();
    const std::string& base = snap_->settings->http.public_url;
    if (!base.empty()) req.public_url.append(base).append(req.target);

    route_match m = state_->routes.find(req.method, req.path);
    if (m.what == route_match::outcome::not_found) {
      co_return response::json_error(404, "not_found", "no route for " + std::string(req.path.substr(0, 200)));
    }
    if (m.what == route_match::outcome::method_not_allowed) {
      auto res = response::json_error(405, "method_not_allowed",
                                      std::string(req.path.substr(0, 200)) + " allows " + m.allow);
      res.headers.emplace_back("Allow", m.allow);
      co_return res;
    }
    route_index = m.index;
    const route& r = state_->routes.at(m.index);
    switch (r.kind) {
      case route_kind::healthz: co_return response::text(200, "ok\n");
      case route_kind::readyz: co_return readiness_response(state_->provide);
      case route_kind::metrics: co_return metrics_response(*state_);
      case route_kind::ops:
        if (!state_->dispatch) co_return response::json_error(503, "unavailable", "no op dispatcher");
        co_return co_await async_handle_ops(req, snap_->keys, *state_->dispatch);
      case route_kind::check:
        if (!state_->dispatch) co_return response::text(503, "deny:unavailable");
        co_return co_await async_handle_check(req, snap_->keys, *state_->dispatch);
      case route_kind::hook: break;
    }
    std::optional<response> res;
    try {
      res.emplace(co_await r.handler(req));
    } catch (const std::exception& e) {
      spdlog::error("http: handler for {} failed: {}", r.path, e.what());
    } catch (...) {
      spdlog::error("http: handler for {} failed with a non-standard exception", r.path);
    }
    if (!res) co_return response::json_error(500, "internal", "internal error");
    co_return std::move(*res);
  }

  awaitable<bool> write(response& res, bool keep_alive, unsigned version) {
    if (res.status < 100 || res.status > 599) res.status = 500;
    beast_http::response<beast_http::string_body> out;
    out.version(version == 10 ? 10 : 11);
    out.result(res.status);
    out.set(beast_http::field::server, "stopgate");
    out.set(beast_http::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers) out.insert(name, value);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    tcp_layer(stream_).expires_after(timeout());
    auto [ec, n] = co_await beast_http::async_write(stream_, out, nothrow);
    block_.add(block_.bytes_out, n);
    co_return !ec;
  }

  awaitable<void> close_gracefully(bool linger) {
    auto& tcp = tcp_layer(stream_);
    if constexpr (is_tls<Stream>) {
      tcp.expires_after(std::min<std::chrono::milliseconds>(timeout(), 1s));
      co_await stream_.async_shutdown(nothrow);
    } else {
      boost::system::error_code ec;
      tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (!linger || ec) co_return;
      tcp.expires_after(std::min<std::chrono::milliseconds>(timeout(), linger_max_time));
      std::array<char, 16384> scratch;
      std::size_t drained = 0;
      while (drained < linger_max_bytes) {
        auto [rec, n] = co_await tcp.async_read_some(asio::buffer(scratch), nothrow);
        drained += n;
        if (rec) break;
      }
    }
  }

  void close_socket() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    tcp_layer(stream_).socket().close(ec);
  }

  void finish() {
    block_.add(block_.connections_open, -1);
    state_->open.fetch_sub(1, std::memory_order_relaxed);
    state_->remove_connection(this);
  }

  std::shared_ptr<server_state> state_;
  std::shared_ptr<asio::ssl::context> tls_;  // outlives stream_
  Stream stream_;
  std::size_t index_;
  http_counter_block& block_;
  const asio::ip::address peer_;
  const bool loopback_;
  std::shared_ptr<const settings_snapshot> snap_;
  beast::flat_buffer buffer_;
  std::optional<parser_type> parser_;
  std::size_t ext_budget_ = 0;  // chunk-extension bytes the current request may still send
  bool ext_over_budget_ = false;
  // The parser keeps a reference to the callback: it lives as long as the connection.
  std::function<void(std::uint64_t, beast::string_view, boost::system::error_code&)>
      on_chunk_header_ = [this](std::uint64_t size, beast::string_view ext,
                                boost::system::error_code& ec) { chunk_header(size, ext, ec); };
  bool awaiting_request_ = false;
  bool shutdown_ = false;
  bool closed_ = false;
};

}  // namespace

void start_connection(const std::shared_ptr<server_state>& state, tcp::socket socket,
                      std::shared_ptr<asio::ssl::context> tls, std::size_t context_index,
                      const asio::ip::address& peer, bool loopback) {
  if (tls) {
    std::make_shared<connection<tls_stream>>(state, std::move(socket), std::move(tls), context_index,
                                             peer, loopback)
        ->start();
  } else {
    std::make_shared<connection<plain_stream>>(state, std::move(socket), nullptr, context_index, peer,
                                               loopback)
        ->start();
  }
}

}  // namespace stopgate::gateway::http
