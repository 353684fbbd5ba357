#include "tools/stopgatectl/context.hpp"

#include "config/load.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace stopgate::ctl {

std::optional<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

config::settings_ptr load_settings(const global_options& g, secret_filter needs) {
  config::load_options options;
  options.needs_secret = std::move(needs);
  if (g.config_file.empty()) return config::embedded_defaults(options);
  auto s = config::load_file(g.config_file, options);
  if (!s) {
    std::fprintf(stderr, "stopgatectl: %s is not a valid configuration:\n%s\n",
                 g.config_file.c_str(), s.error().to_string().c_str());
    return nullptr;
  }
  return *s;
}

std::unique_ptr<redis_context> open_redis(const global_options& g,
                                          std::chrono::milliseconds command_timeout) {
  auto settings = load_settings(g, redis_secrets_only);
  if (!settings) return nullptr;
  auto ctx = std::make_unique<redis_context>();
  ctx->data_dir = settings->server.data_dir;
  const std::string url = g.redis_url.empty() ? settings->redis.url : g.redis_url;
  auto ep = redis::parse_url(url);
  if (!ep) {
    std::fprintf(stderr, "stopgatectl: redis url '%s': %s\n", url.c_str(),
                 ep.error().message().c_str());
    return nullptr;
  }
  if (ep->type == redis::endpoint::kind::managed) {
    // The gateway's private Redis if it runs; with --managed, otherwise one of our own on the
    // same data (its append-only file keeps what we write for the gateway's next start).
    std::error_code fs_ec;
    const auto dir = std::filesystem::absolute(ctx->data_dir, fs_ec);
    auto m = g.start_managed ? redis::managed_server::ensure(ctx->data_dir)
                             : redis::managed_server::attach(ctx->data_dir);
    if (!m && m.error() == redis::managed_errc::not_running) {
      std::fprintf(
          stderr,
          "stopgatectl: no managed Redis is running in %s (nothing answers on %s).\n"
          "  No gateway reads that directory now, so nothing was written. Either run this\n"
          "  where the gateway runs (its --config and working directory), give its Redis\n"
          "  with --redis URL, or pass --managed to start the managed Redis there (a gateway\n"
          "  started later on %s reads what this command writes).\n",
          dir.c_str(), (dir / "redis.sock").c_str(), dir.c_str());
      return nullptr;
    }
    if (!m) {
      std::fprintf(stderr, "stopgatectl: cannot start or reach the managed Redis in %s: %s\n",
                   ctx->data_dir.c_str(), m.error().message().c_str());
      return nullptr;
    }
    ctx->managed = std::move(*m);
    *ep = ctx->managed->ep();
    ctx->where = "the managed Redis at " + (dir / "redis.sock").string() +
                 (ctx->managed->owned() ? " (started by this command)" : " (the gateway's)");
  } else {
    ctx->where = ep->to_string();
  }
  if (ep->password.empty() && !settings->redis.password.empty())
    ep->password = settings->redis.password.reveal();
  if (ep->username.empty()) ep->username = settings->redis.username;
  ctx->options.ep = *ep;
  ctx->options.command_timeout = command_timeout;
  ctx->options.connect_timeout = std::chrono::milliseconds(settings->redis.connect_timeout_ms);
  ctx->settings = settings;
  return ctx;
}

}  // namespace stopgate::ctl
