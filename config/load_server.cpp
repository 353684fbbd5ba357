// Readers for the process-level tables: [server] [api] [http] [redis] [evidence].
#include "config/load_detail.hpp"
#include "config/redis_url_check.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stopgate::config::detail {
namespace {

constexpr std::uint64_t k_day_ms = 86'400'000;

/// "HOST:PORT" or "" (off).
void read_listen(table_reader& t, std::string_view key, std::optional<listen_address>& out) {
  std::string text;
  if (!t.read(key, text)) return;
  if (text.empty()) {
    out.reset();
    return;
  }
  if (auto a = parse_listen_address(text)) {
    out = std::move(*a);
    return;
  }
  t.problem(key, "must be \"HOST:PORT\" (e.g. \"127.0.0.1:7600\", \"[::1]:7600\") or \"\" to "
                 "disable", t.get(key));
}

void read_path(table_reader& t, std::string_view key, std::filesystem::path& out) {
  std::string text;
  if (!t.read(key, text)) return;
  if (text.find('\0') != std::string::npos) {
    t.problem(key, "must not contain NUL", t.get(key));
    return;
  }
  out = text;
}

}  // namespace

void read_server(table_reader t, server_settings& out) {
  read_path(t, "data_dir", out.data_dir);
  if (out.data_dir.empty()) t.problem("data_dir", "must not be empty", t.get("data_dir"));
  if (t.read("instance", out.instance)) {
    bool ok = !out.instance.empty() && out.instance.size() <= 32 &&
              std::all_of(out.instance.begin(), out.instance.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
              });
    if (!ok) t.problem("instance", "must match [A-Za-z0-9_-]{1,32}", t.get("instance"));
  }
  t.read_int("threads", out.threads, 0, 256);
  t.read_int("busy_poll_us", out.busy_poll_us, 0, 10'000);
  t.read_int("shutdown_grace_ms", out.shutdown_grace_ms, 0, 600'000);
  t.read_enum<log_level>("log_level", out.level,
                         {{"trace", log_level::trace},
                          {"debug", log_level::debug},
                          {"info", log_level::info},
                          {"warn", log_level::warn},
                          {"error", log_level::error},
                          {"critical", log_level::critical},
                          {"off", log_level::off}});
  t.read("mask_numbers", out.mask_numbers);
  t.finish();
}

void read_api(table_reader t, api_settings& out) {
  read_listen(t, "listen", out.listen);
  read_path(t, "unix_socket", out.unix_socket);
  read_listen(t, "tls_listen", out.tls_listen);
  read_path(t, "tls_cert", out.tls_cert);
  read_path(t, "tls_key", out.tls_key);
  t.read_int("max_line_bytes", out.max_line_bytes, 256, 16 << 20);
  t.read_int("max_batch", out.max_batch, 1, 100'000);
  t.read_int("max_in_flight", out.max_in_flight, 1, 65'536);
  t.read_int("max_connections", out.max_connections, 1, 1'000'000);
  t.read_int("idle_timeout_ms", out.idle_timeout_ms, 1000, k_day_ms);
  t.read_int("auth_timeout_ms", out.auth_timeout_ms, 100, 600'000);
  t.finish();
}

void read_http(table_reader t, http_settings& out) {
  read_listen(t, "listen", out.listen);
  if (t.read("public_url", out.public_url) && !out.public_url.empty()) {
    // Signatures cover the URL the carrier called: one canonical form, no trailing slash.
    while (out.public_url.ends_with('/')) out.public_url.pop_back();
    if (!is_http_url(out.public_url) || out.public_url.find('?') != std::string::npos)
      t.problem("public_url",
                "must be an http:// or https:// URL without query or fragment "
                "(e.g. \"https://gw.example.com\")",
                t.get("public_url"));
  }
  read_path(t, "tls_cert", out.tls_cert);
  read_path(t, "tls_key", out.tls_key);
  t.read_int("max_body_bytes", out.max_body_bytes, 1024, 64 << 20);
  t.read_int("max_header_bytes", out.max_header_bytes, 1024, 1 << 20);
  t.read_int("read_timeout_ms", out.read_timeout_ms, 100, 600'000);
  t.read_int("max_connections", out.max_connections, 1, 1'000'000);
  t.read_int("replay_window_s", out.replay_window_s, 10, 3600);
  t.finish();
}

void read_redis(table_reader t, redis_settings& out) {
  if (t.read("url", out.url)) {
    if (std::string why = redis_url_problem(out.url); !why.empty())
      t.problem("url", why, t.get("url"));
    else if (out.url.find('@') != std::string::npos)
      t.context().inline_secrets.push_back(t.key_path("url"));  // a password written in the URL
  }
  t.read("username", out.username);
  t.read_secret("password", out.password);
  read_path(t, "managed_dir", out.managed_dir);
  t.read("managed_binary", out.managed_binary);
  t.read_int("timeout_ms", out.timeout_ms, 1, 60'000);
  t.read_int("connect_timeout_ms", out.connect_timeout_ms, 1, 60'000);
  t.read_int("contact_cache_mb", out.contact_cache_mb, 0, 4096);
  t.read_int("reconnect_min_ms", out.reconnect_min_ms, 1, 60'000);
  t.read_int("reconnect_max_ms", out.reconnect_max_ms, 1, 600'000);
  if (const toml::node* n = t.get("min_replica_acks"); n && n->is_string()) {
    if (n->value<std::string>() != "auto")
      t.problem("min_replica_acks", "must be \"auto\" or a number of replicas 0..16", n);
  } else if (n) {
    std::uint32_t acks = 0;
    if (t.read_int("min_replica_acks", acks, 0, 16)) out.min_replica_acks = acks;
  }
  t.read_int("replica_ack_timeout_ms", out.replica_ack_timeout_ms, 1, 60'000);
  t.finish();
}

void read_evidence(table_reader t, evidence_settings& out) {
  read_path(t, "dir", out.dir);
  if (out.dir.empty()) t.problem("dir", "must not be empty", t.get("dir"));
  // Absent means the SPEC default, an environment variable.
  std::string raw = "env:STOPGATE_EVIDENCE_KEY";
  bool defaulted = !t.get("hmac_key");
  const auto& needs = t.context().options->needs_secret;
  if (defaulted && !t.context().options->getenv("STOPGATE_EVIDENCE_KEY") && needs &&
      !needs(t.key_path("hmac_key"))) {
    t.context().unresolved_secrets.push_back(t.key_path("hmac_key"));
  } else if (defaulted && !t.context().options->getenv("STOPGATE_EVIDENCE_KEY")) {
    t.problem("hmac_key",
              "environment variable STOPGATE_EVIDENCE_KEY is not set (hmac_key "
              "defaults to \"env:STOPGATE_EVIDENCE_KEY\"; or set hmac_key = "
              "\"file:evidence.key\")");
  } else if (defaulted || t.read("hmac_key", raw)) {
    out.hmac_key = {};
    out.hmac_key_file.clear();
    if (raw.starts_with("file:") && raw.size() > 5) {
      out.hmac_key_file = raw.substr(5);
    } else if (raw.empty()) {
      t.problem("hmac_key", "must be set: \"env:NAME\", \"file:PATH\" or the key itself",
                t.get("hmac_key"));
    } else {
      out.hmac_key = t.context().resolve_secret(t.key_path("hmac_key"), raw, t.get("hmac_key"));
      if (!out.hmac_key.empty() && out.hmac_key.reveal().size() < 32)
        t.problem("hmac_key", "must be at least 32 bytes long", t.get("hmac_key"));
    }
  }
  t.read_int("checkpoint_every", out.checkpoint_every, 1, 1'000'000);
  t.read_int("checkpoint_interval_s", out.checkpoint_interval_s, 1, 86'400);
  t.read_int("segment_max_bytes", out.segment_max_bytes, 1 << 20, 1ULL << 36);
  t.read_int("retention_days", out.retention_days, 1, 36'500);
  if (t.read_secret("encryption_key", out.encryption_key) && !out.encryption_key.empty()) {
    // 64 hex digits -> the 32 raw key bytes.
    auto bytes = decode_hex(out.encryption_key.reveal());
    if (!bytes || bytes->size() != 32) {
      t.problem("encryption_key", "must be 64 hex digits (a 32-byte AES-256 key) or \"\"",
                t.get("encryption_key"));
      out.encryption_key = {};
    } else {
      out.encryption_key = out.encryption_key.with_value(std::move(*bytes));
    }
  }
  t.read_int("group_commit_max_records", out.group_commit_max_records, 1, 65'536);
  t.finish();
}

}  // namespace stopgate::config::detail

namespace stopgate::config::detail {

void read_queue(table_reader t, queue_settings& out) {
  t.read_int("max_in_flight", out.max_in_flight, 1, 100'000);
  t.read_int("poll_ms", out.poll_ms, 1, 60'000);
  t.read_int("lease_ms", out.lease_ms, 1000, 3'600'000);
  t.read_int("submit_lease_ms", out.submit_lease_ms, 10'000, 86'400'000);
  t.read_int("shards", out.shards, 1, 16'384);
  t.read_int("max_messages", out.max_messages, 1, 1'000'000'000);
  t.read_int("campaign_rate_per_second", out.campaign_rate_per_second, 0, 100'000);
  t.read_int("campaign_rate_per_minute", out.campaign_rate_per_minute, 0, 6'000'000);
  t.read_int("status_webhook_retry_ms", out.status_webhook_retry_ms, 100, 3'600'000);
  if (t.read("default_mode", out.default_mode) && out.default_mode != "sync" &&
      out.default_mode != "queue")
    t.problem("default_mode", "must be \"sync\" or \"queue\"", t.get("default_mode"));
  t.finish();
}

}  // namespace stopgate::config::detail
