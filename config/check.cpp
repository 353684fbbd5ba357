// The steps after reading: relative paths, cross-field rules, lookup indexes.
#include "config/load.hpp"
#include "config/load_detail.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>

namespace stopgate::config {
namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

bool readable(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return f.good();
}

/// OpenSSL's oldest queued error as text (and the queue cleared), for a problem message.
std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "not accepted by OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

/// Loads the pair as the listeners do (PEM certificate chain, PEM private key that matches it),
/// so that a file the start would refuse is refused here.
void load_tls(std::vector<problem>& out, std::string_view table, const std::filesystem::path& cert,
              const std::filesystem::path& key) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  ERR_clear_error();
  if (!ctx) {
    out.push_back({fmt::format("{}.tls_cert", table),
                   "OpenSSL could not make a TLS context: " + openssl_error()});
    return;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1) {
    out.push_back({fmt::format("{}.tls_cert", table),
                   fmt::format("\"{}\" is not a usable PEM certificate chain: {}", cert.string(),
                               openssl_error())});
    return;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
    out.push_back({fmt::format("{}.tls_key", table),
                   fmt::format("\"{}\" is not a usable PEM private key for {}.tls_cert: {}",
                               key.string(), table, openssl_error())});
    return;
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    out.push_back({fmt::format("{}.tls_key", table),
                   fmt::format("\"{}\" does not match the certificate of {}.tls_cert: {}",
                               key.string(), table, openssl_error())});
}

void check_tls(std::vector<problem>& out, std::string_view table, const std::filesystem::path& cert,
               const std::filesystem::path& key) {
  if (cert.empty() != key.empty()) {
    out.push_back({fmt::format("{}.{}", table, cert.empty() ? "tls_cert" : "tls_key"),
                   "tls_cert and tls_key must be set together"});
    return;
  }
  if (cert.empty()) return;
  bool ok = true;
  if (!readable(cert)) {
    ok = false;
    out.push_back(
        {fmt::format("{}.tls_cert", table), fmt::format("cannot read \"{}\"", cert.string())});
  }
  if (!readable(key)) {
    ok = false;
    out.push_back(
        {fmt::format("{}.tls_key", table), fmt::format("cannot read \"{}\"", key.string())});
  }
  if (ok) load_tls(out, table, cert, key);
}

}  // namespace

std::vector<problem> check(const settings& s) {
  std::vector<problem> out;

  // Listeners.
  check_tls(out, "api", s.api.tls_cert, s.api.tls_key);
  check_tls(out, "http", s.http.tls_cert, s.http.tls_key);
  if (s.api.tls_listen && s.api.tls_cert.empty())
    out.push_back({"api.tls_listen", "needs api.tls_cert and api.tls_key"});
  if (!s.api.tls_listen && !s.api.tls_cert.empty())
    out.push_back({"api.tls_cert", "is set but api.tls_listen is empty (no TLS listener)"});
  std::vector<std::pair<std::string, const std::optional<listen_address>*>> listeners{
      {"api.listen", &s.api.listen},
      {"api.tls_listen", &s.api.tls_listen},
      {"http.listen", &s.http.listen}};
  for (std::size_t i = 0; i < listeners.size(); ++i)
    for (std::size_t j = i + 1; j < listeners.size(); ++j) {
      const auto& a = *listeners[i].second;
      const auto& b = *listeners[j].second;
      if (a && b && *a == *b && a->port != 0)
        out.push_back({listeners[j].first,
                       fmt::format("same address as {} ({})", listeners[i].first, a->to_string())});
    }
  // sun_path holds 108 bytes including the terminating NUL.
  if (s.api.unix_socket.string().size() > 107)
    out.push_back({"api.unix_socket", "the resolved path is longer than 107 bytes"});

  // A batch limit the line limit cannot carry would refuse big batches as line_too_long
  // (with "id": null) instead of batch_too_large.
  if (const auto need = min_line_bytes_for_batch(s.api.max_batch); s.api.max_line_bytes < need)
    out.push_back(
        {"api.max_batch",
         fmt::format("a check of {} numbers needs api.max_line_bytes >= {} (19 bytes a number "
                     "plus 1024), but it is {}: lower api.max_batch or raise api.max_line_bytes",
                     s.api.max_batch, need, s.api.max_line_bytes)});

  if (s.redis.reconnect_min_ms > s.redis.reconnect_max_ms)
    out.push_back({"redis.reconnect_max_ms", "must be >= redis.reconnect_min_ms"});

  // Carriers.
  std::vector<std::string> carrier_names;
  for (const auto& c : s.carriers) carrier_names.push_back(c.name);
  if (s.carriers.empty())
    out.push_back({"carriers", "at least one carrier is required (e.g. [carriers.sandbox] "
                               "type = \"sandbox\")"});
  for (const auto& c : s.carriers) {
    if (c.backoff_initial_ms > c.backoff_max_ms)
      out.push_back({fmt::format("carriers.{}.backoff_max_ms", c.name),
                     "must be >= backoff_initial_ms"});
    // These schemes sign the public URL the carrier called.
    if ((c.type == carrier_type::twilio || c.type == carrier_type::plivo) &&
        s.http.public_url.empty())
      out.push_back({"http.public_url",
                     fmt::format("is required by carrier {} ({} signs the webhook URL)", c.name,
                                 to_string(c.type))});
  }

  // Senders: routes name carriers; a number belongs to one sender.
  if (s.senders.empty())
    out.push_back({"senders", "at least one sender is required (e.g. [senders.default] "
                              "route = [\"sandbox\"])"});
  std::unordered_map<std::string, std::string> owner;
  for (const auto& snd : s.senders) {
    for (std::size_t i = 0; i < snd.route.size(); ++i) {
      const auto& r = snd.route[i];
      if (!s.carrier(r))
        out.push_back({fmt::format("senders.{}.route", snd.name),
                       fmt::format("\"{}\" is not a configured carrier (configured: {})", r,
                                   join_names(carrier_names))});
      if (std::find(snd.route.begin(), snd.route.begin() + i, r) != snd.route.begin() + i)
        out.push_back({fmt::format("senders.{}.route", snd.name),
                       fmt::format("\"{}\" is listed twice", r)});
    }
    for (const auto& n : snd.numbers) {
      auto [it, fresh] = owner.emplace(n, snd.name);
      if (!fresh)
        out.push_back({fmt::format("senders.{}.numbers", snd.name),
                       it->second == snd.name
                           ? fmt::format("\"{}\" is listed twice", n)
                           : fmt::format("\"{}\" already belongs to sender {}", n, it->second)});
    }
  }
  detail::check_dialer(s, out);
  return out;
}

std::vector<std::string> secret_exposure_warnings(const settings& s) {
  std::vector<std::string> out;
  auto others_read = [](const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0;
  };
  // Embedded defaults have no file (origin is not a path then).
  if (!s.inline_secrets.empty() && s.origin != "embedded defaults" && others_read(s.origin))
    out.push_back(
        fmt::format("{} is readable by other users and holds secrets inline ({}): "
                    "chmod o-r it, or give them as env:NAME",
                    s.origin, join_names(s.inline_secrets)));
  if (!s.evidence.hmac_key_file.empty() && others_read(s.evidence.hmac_key_file))
    out.push_back(fmt::format("{} (evidence.hmac_key) is readable by other users: chmod 600 it",
                              s.evidence.hmac_key_file.string()));
  return out;
}

namespace detail {

void resolve_paths(settings& s, const std::filesystem::path& cwd) {
  auto& dd = s.server.data_dir;
  dd = (dd.is_absolute() ? dd : cwd / dd).lexically_normal();
  if (dd.has_filename() == false && dd.has_parent_path()) dd = dd.parent_path();
  auto fix = [&](std::filesystem::path& p) {
    if (!p.empty()) p = resolve_path(s, p);
  };
  fix(s.api.unix_socket);
  fix(s.api.tls_cert);
  fix(s.api.tls_key);
  fix(s.http.tls_cert);
  fix(s.http.tls_key);
  fix(s.redis.managed_dir);
  fix(s.evidence.dir);
  fix(s.evidence.hmac_key_file);
  for (auto& c : s.carriers)
    if (auto* sb = std::get_if<sandbox_credentials>(&c.credentials)) fix(sb->outbox);
}

void build_indexes(settings& s) {
  for (std::size_t i = 0; i < s.senders.size(); ++i)
    for (const auto& n : s.senders[i].numbers) s.number_owner.emplace(n, i);
}

}  // namespace detail
}  // namespace stopgate::config
