#include "gateway/send/status_hooks.hpp"

#include "carriers/signature/crypto.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stopgate::gateway::send {

namespace asio = boost::asio;

namespace {

constexpr std::string_view group = "hooks";

// One stream entry: its id and its "body" field.
struct entry {
  std::string id, body;
};

void collect(const redis::reply& list, std::vector<entry>& out) {
  if (list.kind != redis::reply::type::array) return;
  for (const auto& e : list.elements) {
    if (e.kind != redis::reply::type::array || e.elements.size() != 2) continue;
    entry x;
    x.id = e.elements[0].str;
    const auto& f = e.elements[1].elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2)
      if (f[i].str == "body") x.body = f[i + 1].str;
    if (!x.body.empty()) out.push_back(std::move(x));
  }
}

}  // namespace

std::string hook_key(std::string_view sender) {
  return "{sg:hook:" + std::string(sender) + "}";
}

std::string sign_status_body(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  const std::string mac = carriers::signature::hmac(carriers::signature::digest_alg::sha256, secret,
                                                    t + "." + std::string(body));
  return "t=" + t + ",v1=" + carriers::signature::hex_encode(mac);
}

status_hooks::status_hooks(asio::io_context& io, redis::client& c,
                           std::function<config::settings_ptr()> settings, status_hook_options o)
    : io_(io), c_(c), settings_(std::move(settings)), opts_(std::move(o)), timer_(io) {}

void status_hooks::start() {
  asio::co_spawn(io_, loop(), asio::detached);
}

void status_hooks::stop() {
  stopping_ = true;
  timer_.cancel();
  if (http_) http_->stop();
}

asio::awaitable<void> status_hooks::loop() {
  while (!stopping_) {
    auto s = settings_();
    if (c_.connected() && s) {
      for (const auto& snd : s->senders) {
        if (snd.status_url.empty() || stopping_) continue;
        const auto key = hook_key(snd.name);
        if (!groups_.count(snd.name)) {
          // From the start of the stream: events appended before any gateway looked are sent too.
          auto g = co_await c_.async_exec(
              redis::command_args("XGROUP", "CREATE", key, group, "0", "MKSTREAM"));
          if (!g) continue;
          if (g->is_error() && g->str.find("BUSYGROUP") == std::string::npos) {
            spdlog::warn("status webhook of sender {}: {}", snd.name, g->str);
            continue;
          }
          groups_.insert(snd.name);
        }
        std::vector<entry> todo;
        // Events another delivery did not acknowledge in time (failed, or its gateway died).
        const std::string idle = std::to_string(opts_.retry_after.count());
        const std::string count = std::to_string(opts_.batch);
        auto claimed = co_await c_.async_exec(redis::command_args(
            "XAUTOCLAIM", key, group, opts_.consumer, idle, "0", "COUNT", count));
        if (claimed && claimed->is_error() && claimed->str.starts_with("NOGROUP")) {
          // Redis lost the stream (a flush, a restart without persistence): make it again.
          groups_.erase(snd.name);
          continue;
        }
        if (claimed && claimed->kind == redis::reply::type::array && claimed->elements.size() >= 2)
          collect(claimed->elements[1], todo);
        auto fresh = co_await c_.async_exec(redis::command_args(
            "XREADGROUP", "GROUP", group, opts_.consumer, "COUNT", count, "STREAMS", key, ">"));
        if (fresh && fresh->kind == redis::reply::type::array)
          for (const auto& stream : fresh->elements)
            if (stream.kind == redis::reply::type::array && stream.elements.size() == 2)
              collect(stream.elements[1], todo);
        for (auto& e : todo) {
          // Stream ids repeat across senders' streams: key by both.
          if (!in_flight_.insert(snd.name + "\n" + e.id).second) continue;
          asio::co_spawn(io_,
                         deliver(snd.name, snd.status_url, snd.status_secret.reveal(),
                                 std::move(e.id), std::move(e.body)),
                         asio::detached);
        }
      }
    }
    timer_.expires_after(opts_.poll);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> status_hooks::deliver(std::string sender, std::string url,
                                            std::string secret, std::string id, std::string body) {
  if (!http_) {
    carriers::http::client_options o;
    o.verify_tls = opts_.verify_tls;
    o.max_in_flight = 256;
    http_ = std::make_unique<carriers::http::client>(io_.get_executor(), o);
  }
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  carriers::http::request r;
  r.method = "POST";
  r.url = url;
  r.headers = {{"Content-Type", "application/json"},
               {"X-Stopgate-Event-Id", id},
               {"X-Stopgate-Signature", sign_status_body(secret, now_s, body)}};
  r.body = body;
  r.timeout = opts_.timeout;
  auto out = co_await http_->async_request(std::move(r));
  const bool ok = out && out->status >= 200 && out->status < 300;
  if (ok) {
    auto ack = co_await c_.async_exec(redis::command_args("XACK", hook_key(sender), group, id));
    if (!ack || ack->is_error())
      spdlog::warn("status webhook of sender {}: event {} delivered, not acknowledged (it will be "
                   "delivered again)", sender, id);
    ++counters_.delivered;
  } else {
    ++counters_.failed;
    spdlog::warn("status webhook of sender {} ({}): event {} not delivered ({}); again in {} ms",
                 sender, carriers::http::url_origin(url), id,
                 out ? "HTTP " + std::to_string(out->status) : out.error().code.message(),
                 opts_.retry_after.count());
  }
  in_flight_.erase(sender + "\n" + id);
}

}  // namespace stopgate::gateway::send
