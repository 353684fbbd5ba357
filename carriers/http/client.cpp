#include "carriers/http/client.hpp"

#include "carriers/http/multi_bridge.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::carriers::http {

namespace asio = boost::asio;

// curl enforces the request timeout; this backstop only guards against a transfer curl
// never finishes (it should not happen), so a coroutine can never wait forever.
constexpr std::chrono::seconds backstop_grace{2};

client::client(asio::any_io_executor ex, client_options opts)
    : bridge_(std::make_shared<detail::multi_bridge>(std::move(ex), std::move(opts))) {}

client::~client() {
  bridge_->stop();
}

void client::stop() {
  bridge_->stop();
}

std::size_t client::in_flight() const noexcept {
  return bridge_->in_flight();
}

asio::awaitable<outcome> client::async_request(request r) {
  // The coroutine keeps the bridge alive: it may resume after the client is gone.
  const std::shared_ptr<detail::multi_bridge> bridge = bridge_;
  const auto backstop = r.timeout + backstop_grace;
  auto started = bridge->start(std::move(r));
  if (!started) co_return failure{started.error(), false, {}};
  const std::shared_ptr<detail::transfer> t = std::move(*started);
  if (!t->done) {
    t->wake.expires_after(backstop);
    auto [ec] = co_await t->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!t->done)
      bridge->abandon(
          *t, ec == asio::error::operation_aborted ? client_errc::stopped : client_errc::timeout);
  }
  if (t->ec) co_return failure{t->ec, t->sent, t->resp.elapsed};
  co_return std::move(t->resp);
}

}  // namespace stopgate::carriers::http
