#include "tools/stopgatectl/context.hpp"

#include "config/load.hpp"

#include <cstdio>

namespace stopgate::ctl {

config::settings_ptr load_settings(const global_options& g) {
  if (g.config_file.empty()) return config::embedded_defaults();
  auto s = config::load_file(g.config_file);
  if (!s) {
    std::fprintf(stderr, "stopgatectl: %s is not a valid configuration:\n%s\n", g.config_file.c_str(),
                 s.error().to_string().c_str());
    return nullptr;
  }
  return *s;
}

std::unique_ptr<redis_context> open_redis(const global_options& g,
                                          std::chrono::milliseconds command_timeout) {
  auto settings = load_settings(g);
  if (!settings) return nullptr;
  auto ctx = std::make_unique<redis_context>();
  ctx->data_dir = settings->server.data_dir;
  const std::string url = g.redis_url.empty() ? settings->redis.url : g.redis_url;
  auto ep = redis::parse_url(url);
  if (!ep) {
    std::fprintf(stderr, "stopgatectl: redis url '%s': %s\n", url.c_str(), ep.error().message().c_str());
    return nullptr;
  }
  if (ep->type == redis::endpoint::kind::managed) {
    // The gateway's private Redis if it runs; otherwise one of our own on the same data
    // (its append-only file keeps what we write for the gateway's next start).
    auto m = redis::managed_server::ensure(ctx->data_dir);
    if (!m) {
      std::fprintf(stderr, "stopgatectl: cannot start or reach the managed Redis in %s: %s\n",
                   ctx->data_dir.c_str(), m.error().message().c_str());
      return nullptr;
    }
    ctx->managed = std::move(*m);
    *ep = ctx->managed->ep();
  }
  if (ep->password.empty() && !settings->redis.password.empty()) ep->password = settings->redis.password.reveal();
  if (ep->username.empty()) ep->username = settings->redis.username;
  ctx->options.ep = *ep;
  ctx->options.command_timeout = command_timeout;
  ctx->options.connect_timeout = std::chrono::milliseconds(settings->redis.connect_timeout_ms);
  ctx->settings = settings;
  return ctx;
}

}  // namespace stopgate::ctl
