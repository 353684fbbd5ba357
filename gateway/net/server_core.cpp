#include "gateway/net/server_core.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace stopgate::gateway::net {

namespace asio = boost::asio;
using namespace std::chrono_literals;

void server_core::set_settings(std::shared_ptr<const config::settings> s) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::make_shared<settings_snapshot>(std::move(s), snapshot_->generation + 1);
  generation_.store(snapshot_->generation, std::memory_order_release);
}

bool server_core::reserve_connection(std::uint32_t limit) noexcept {
  if (open.fetch_add(1, std::memory_order_relaxed) < std::int64_t(limit)) return true;
  open.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

void server_core::add_connection(const std::shared_ptr<connection_base>& c) {
  std::lock_guard lock(mutex_);
  live_[c.get()] = c;
}

void server_core::remove_connection(connection_base* c) {
  std::lock_guard lock(mutex_);
  live_.erase(c);
}

asio::awaitable<void> server_core::async_drain(std::string_view component, std::chrono::milliseconds grace) {
  constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
  for_each_connection([](const auto& c) { c->begin_shutdown(); });
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto deadline = std::chrono::steady_clock::now() + grace;
  // Polling is fine here: it runs once, at shutdown.
  while (open.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(5ms);
    co_await timer.async_wait(nothrow);
  }
  if (open.load() == 0) co_return;
  spdlog::warn("{}: closing {} connections still busy after the {} ms grace period", component, open.load(),
               grace.count());
  for_each_connection([](const auto& c) { c->force_close(); });
  auto hard = std::chrono::steady_clock::now() + 1s;
  while (open.load() > 0 && std::chrono::steady_clock::now() < hard) {
    timer.expires_after(5ms);
    co_await timer.async_wait(nothrow);
  }
}

}  // namespace stopgate::gateway::net
