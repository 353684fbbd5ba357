#include "dnc/lists/mirror.hpp"

#include "dnc/lists/keys.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::dnc::lists {

namespace asio = boost::asio;
using boost::system::error_code;

list_mirror::list_mirror(asio::any_io_executor ex, options opts)
    : ex_(ex),
      opts_(std::move(opts)),
      client_(ex, opts_.redis),
      subscriber_(ex, opts_.redis),
      store_(client_),
      current_(std::make_shared<const model::lists_snapshot>()),
      wake_(ex) {
  wake_.expires_at(asio::steady_timer::time_point::max());
}

list_mirror::~list_mirror() {
  stop();
}

void list_mirror::start() {
  client_.start();
  subscriber_.subscribe(std::string(list_keys::channel));
  subscriber_.on_message([this](std::string_view, std::string_view) { wake(); });
  // After every (re)subscription we may have missed announcements: re-read.
  subscriber_.on_subscribed([this] { wake(); });
  subscriber_.start();
  asio::co_spawn(ex_, run(), asio::detached);
}

void list_mirror::stop() {
  if (stopped_) return;
  stopped_ = true;
  wake_.cancel();
  subscriber_.stop();
  client_.stop();
}

void list_mirror::wake() {
  dirty_ = true;
  wake_.cancel();
}

asio::awaitable<void> list_mirror::run() {
  while (!stopped_) {
    if (dirty_ && client_.connected()) {
      dirty_ = false;
      if (auto ec = co_await async_refresh()) {
        dirty_ = true;  // try again at the next tick
        spdlog::warn("dnc lists: refresh failed: {}", ec.message());
      }
    }
    // Sleep until an announcement, or the poll interval (the safety net), or a quick retry
    // while disconnected or after a failure.
    const auto wait = (dirty_ ? std::chrono::milliseconds(100) : opts_.poll_interval);
    wake_.expires_after(wait);
    error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) dirty_ = true;  // poll tick
  }
}

asio::awaitable<error_code> list_mirror::async_refresh() {
  auto old = current_.load();
  // A reload may free a generation between our reads of it: then read again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto gens = co_await store_.async_generations();
    if (!gens) {
      ++failures_;
      co_return gens.error();
    }
    auto next = std::make_shared<model::lists_snapshot>();
    bool changed = false, vanished = false;
    for (auto& [name, gen] : *gens) {
      if (gen == 0) continue;
      auto it = old->lists.find(name);
      if (it != old->lists.end() && it->second.data->meta().generation == gen) {
        next->lists.emplace(name, it->second);  // unchanged: share it
        continue;
      }
      auto g = co_await store_.async_read(name, it != old->lists.end() ? &it->second : nullptr);
      if (!g) {
        if (g.error() == list_errc::vanished || g.error() == list_errc::no_such_list) {
          vanished = true;
          break;
        }
        ++failures_;
        co_return g.error();
      }
      next->lists.emplace(name, std::move(*g));
      changed = true;
    }
    if (vanished) continue;
    if (next->lists.size() != old->lists.size()) changed = true;
    next->refreshed_at = std::chrono::system_clock::now();
    if (changed) {
      current_.store(next);
      for (auto& [name, g] : next->lists)
        spdlog::debug("dnc lists: {} generation {} ({} numbers)", name, g.data->meta().generation,
                      g.data->meta().count);
      if (on_installed_) on_installed_(*next);
    }
    ++refreshes_;
    co_return error_code{};
  }
  ++failures_;
  co_return make_error_code(list_errc::vanished);
}

}  // namespace stopgate::dnc::lists
