// The gateway's whole configuration as plain typed values (SPEC section 2).
//
// A settings object is built once by the loader (config/load.hpp) or embedded_defaults(),
// checked as a whole, and then shared read-only by every request as
// std::shared_ptr<const settings>. Reload means loading a new object and swapping the pointer;
// an object never changes after load. Defaults live in the member initialisers below and in
// config/defaults.cpp (tables); docs/CONFIG.md and config/stopgate.example.toml list them.
#pragma once

#include "config/dialer_settings.hpp"
#include "config/values.hpp"

#include <date/date.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace stopgate::config {

/// Transparent string hash: lookups by std::string_view without a temporary string.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

enum class log_level { trace, debug, info, warn, error, critical, off };

struct server_settings {
  std::filesystem::path data_dir = "./var";  // absolute after load (relative to the cwd)
  std::string instance = "gw1";              // [A-Za-z0-9_-]{1,32}; names evidence segments
  unsigned threads = 0;                      // 0 = one per core
  std::uint32_t busy_poll_us = 100;          // longest adaptive spin before blocking; 0 = off
  std::uint32_t shutdown_grace_ms = 5000;
  log_level level = log_level::info;
  bool mask_numbers = true;
};

struct api_settings {
  std::optional<listen_address> listen = listen_address{"127.0.0.1", 7600};  // nullopt: off
  std::filesystem::path unix_socket;                                         // empty: off
  std::optional<listen_address> tls_listen;                                  // nullopt: off
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  // Room for a check of max_batch numbers (config::min_line_bytes_for_batch), so that the
  // two defaults agree; SPEC's 64 KiB held only about 4,000.
  std::uint32_t max_line_bytes = 262144;
  std::uint32_t max_batch = 10000;
  std::uint32_t max_in_flight = 1024;  // per connection
  std::uint32_t max_connections = 10000;
  std::uint32_t idle_timeout_ms = 300000;
  std::uint32_t auth_timeout_ms = 10000;  // with API keys: auth must succeed this soon after accept
};

struct http_settings {
  std::optional<listen_address> listen = listen_address{"127.0.0.1", 7601};  // nullopt: off
  std::string public_url;  // "" or an http(s) URL without a trailing slash
  std::filesystem::path tls_cert;  // both set: the HTTP listener speaks TLS
  std::filesystem::path tls_key;
  std::uint32_t max_body_bytes = 1048576;
  std::uint32_t max_header_bytes = 16384;
  std::uint32_t read_timeout_ms = 10000;
  std::uint32_t max_connections = 10000;
  std::uint32_t replay_window_s = 300;
};

struct redis_settings {
  /// "managed", "tcp://[USER:PASSWORD@]HOST:PORT[/DB]", "unix:///PATH[?db=N]",
  /// "cluster://HOST:PORT,HOST:PORT" or "sentinel://HOST:PORT,HOST:PORT/MASTER"
  /// (docs/REDIS.md). The shape is checked here; redis/url.cpp parses it.
  std::string url = "managed";
  std::string username;  // optional ACL user, used when the URL names none
  secret password;       // optional, used when the URL carries none
  std::filesystem::path managed_dir = "redis";  // managed mode: socket, AOF (absolute)
  std::string managed_binary = "redis-server";
  std::uint32_t timeout_ms = 200;
  std::uint32_t connect_timeout_ms = 1000;
  std::uint32_t reconnect_min_ms = 100;
  std::uint32_t reconnect_max_ms = 5000;
  /// Per worker thread: the local cache of opt-outs and consents validated against the
  /// change stream on every fetch (docs/dev/CONTACTS.md); 0 = off, every fetch reads the hashes.
  std::uint32_t contact_cache_mb = 16;
  /// Replicas that must acknowledge an opt-out, opt-in or consent write (Redis WAIT) before
  /// it is acknowledged; unset = "auto": 1 when the primary has replicas at start, else 0.
  std::optional<std::uint32_t> min_replica_acks;
  /// How long such a write waits for the acknowledgements; then store_unavailable / 503.
  std::uint32_t replica_ack_timeout_ms = 500;
  bool managed() const noexcept { return url == "managed"; }
};

/// [queue]: the durable outbound queue of `send` with "mode": "queue" (docs/QUEUE.md).
struct queue_settings {
  /// Queued messages one gateway thread relays at once.
  std::uint32_t max_in_flight = 256;
  /// How often an idle thread looks for due messages.
  std::uint32_t poll_ms = 50;
  /// A claimed message not yet handed to a carrier goes back to the queue after this long
  /// (its gateway died before sending it).
  std::uint32_t lease_ms = 30000;
  /// A message handed to a carrier whose gateway never reported ends `outcome_unknown` after
  /// this long (never sent again). Longer than a relay's deadline plus a carrier timeout.
  std::uint32_t submit_lease_ms = 180000;
  /// On a Redis Cluster the queue is split into this many slot-local shards.
  std::uint32_t shards = 16;
  /// Messages the queue holds at most (every shard together); a queued send beyond it is
  /// refused with `overloaded`.
  std::uint64_t max_messages = 10'000'000;
  /// Every campaign's queued sends across every gateway (0 = no limit).
  std::uint32_t campaign_rate_per_second = 0;
  std::uint32_t campaign_rate_per_minute = 0;
  /// The default of `send`'s `mode`: "sync" or "queue".
  std::string default_mode = "sync";
  /// A status event a sender's status_url did not take (no 2xx) is POSTed again after this.
  std::uint32_t status_webhook_retry_ms = 10000;
};

struct evidence_settings {
  std::filesystem::path dir = "evidence";  // absolute after load
  /// The checkpoint HMAC key, when given inline or by env:. Empty when hmac_key_file is used.
  secret hmac_key;
  /// "file:PATH" form (absolute after load): the evidence log reads the key from this file
  /// and creates it with 32 random bytes (mode 0600) when it does not exist yet.
  std::filesystem::path hmac_key_file;
  std::uint32_t checkpoint_every = 1000;
  std::uint32_t checkpoint_interval_s = 60;
  std::uint64_t segment_max_bytes = 268435456;
  std::uint32_t retention_days = 1826;
  secret encryption_key;  // empty: bodies stored in clear; else exactly 32 bytes (AES-256-GCM)
  std::uint32_t group_commit_max_records = 1024;
};

enum class keyword_mode { fcc2024, strict };

/// Inbound keyword classes (SPEC section 6). Keywords are stored normalised: ASCII upper
/// case, single spaces.
struct keyword_settings {
  keyword_mode mode = keyword_mode::fcc2024;
  unsigned phrase_max_words = 8;
  std::vector<std::string> languages;  // which built-in lists the defaults came from
  std::vector<std::string> opt_out;
  std::vector<std::string> opt_out_all;
  std::vector<std::string> opt_in;
  std::vector<std::string> help;
};

struct sender_settings {
  std::string name;
  std::string display_name;          // used in reply templates; default: name
  std::vector<std::string> numbers;  // E.164; the first is the default `from`
  std::vector<std::string> route;    // carrier names, first is primary
  std::string help_reply;            // templates with {name} already substituted
  std::string optout_reply;
  std::string optin_reply;
  std::string forward_url;           // "" = do not forward `other` messages
  keyword_settings keywords;         // the global [keywords] with this sender's overrides
  /// Queued sends from one of this sender's numbers, across every gateway (0 = no limit):
  /// 10DLC and toll-free throughput is granted per number (docs/QUEUE.md).
  std::uint32_t rate_per_number_per_second = 0;
  std::uint32_t rate_per_number_per_minute = 0;
  /// Where the status events of this sender's messages are POSTed, signed with status_secret
  /// (X-Stopgate-Signature); "" = no webhook (docs/QUEUE.md, "Status webhook").
  std::string status_url;
  secret status_secret;
};

enum class carrier_type { twilio, telnyx, bandwidth, vonage, plivo, sinch, http, sandbox };
std::string_view to_string(carrier_type t) noexcept;

struct twilio_credentials {
  std::string account_sid;
  secret auth_token;
};
struct telnyx_credentials {
  secret api_key;
  std::string public_key;  // the decoded 32-byte Ed25519 public key
};
struct bandwidth_credentials {
  std::string account_id;
  std::string application_id;
  std::string username;  // username + password, or token
  secret password;
  secret token;
  std::string webhook_username;
  secret webhook_password;
};
enum class vonage_signature_method { md5hash, md5, sha1, sha256, sha512 };
struct vonage_credentials {
  std::string api_key;
  secret api_secret;
  secret signature_secret;
  vonage_signature_method signature_method = vonage_signature_method::sha256;
};
struct plivo_credentials {
  std::string auth_id;
  secret auth_token;
};
struct sinch_credentials {
  std::string service_plan_id;
  secret api_token;
  secret webhook_secret;
};
struct http_credentials {
  std::string url;  // the JSON POST endpoint
  std::vector<std::pair<std::string, secret>> headers;
  secret webhook_secret;
};
struct sandbox_credentials {
  std::filesystem::path outbox = "outbox.jsonl";  // absolute after load
  secret webhook_secret;  // empty: unsigned webhooks accepted from loopback peers only
};
using carrier_credentials =
    std::variant<twilio_credentials, telnyx_credentials, bandwidth_credentials,
                 vonage_credentials, plivo_credentials, sinch_credentials, http_credentials,
                 sandbox_credentials>;

struct carrier_settings {
  std::string name;
  carrier_type type = carrier_type::sandbox;
  std::string base_url;  // per-type default; empty for http and sandbox
  carrier_credentials credentials = sandbox_credentials{};
  std::uint32_t rate_per_second = 100;
  /// Queued sends through this carrier per minute, across every gateway (0 = no limit); the
  /// queue also holds every gateway together to rate_per_second (docs/QUEUE.md).
  std::uint32_t rate_per_minute = 0;
  std::uint32_t max_in_flight = 64;
  std::uint32_t timeout_ms = 5000;
  std::uint32_t retries = 3;
  std::uint32_t backoff_initial_ms = 200;
  std::uint32_t backoff_max_ms = 10000;
  std::uint32_t circuit_failure_threshold = 5;
  std::uint32_t circuit_open_ms = 30000;
  /// The country calling code of national numbers this carrier may send in webhooks without
  /// one: "1" (a bare 10-digit number is a NANP number, as in the socket API) or "" (the
  /// carrier sends international numbers only; bare digits are E.164 without the '+').
  std::string default_country = "1";

  template <class T>
  const T& creds() const { return std::get<T>(credentials); }
};

enum class purpose : std::uint8_t { marketing = 1, informational = 2 };
enum class list_kind { registry, internal, litigator };

/// Which numbers a list applies to.
struct list_coverage {
  enum class scope { all, us, canada, region };
  scope what = scope::all;
  std::string region;  // scope::region: a two-letter state/province code
  friend bool operator==(const list_coverage&, const list_coverage&) = default;
};

struct list_settings {
  std::string name;  // "federal", "state:TX", "canada", "internal", "litigator", ...
  list_kind kind = list_kind::registry;
  std::uint8_t purposes = std::uint8_t(purpose::marketing);  // bit set of `purpose`
  std::uint32_t max_age_days = 31;  // 0 = never stale
  bool exempt_with_consent = true;
  std::uint32_t ebr_purchase_days = 540;  // 0 = no EBR exemption
  std::uint32_t ebr_inquiry_days = 90;
  bool required = true;  // missing or stale: marketing denied with dnc_data_stale
  std::string reason;    // federal_dnc, state_dnc:XX, canada_dncl, internal_dnc, litigator, ...
  list_coverage covers;
  bool blocks(purpose p) const noexcept { return purposes & std::uint8_t(p); }
};

enum class failure_mode { deny, allow };
enum class consent_level { none, express, express_written };

/// What a purpose requires (SPEC section 5).
struct purpose_policy {
  failure_mode on_store_unavailable = failure_mode::deny;
  bool require_consent = true;
  consent_level sms = consent_level::express_written;
  consent_level voice_manual = consent_level::none;
  consent_level voice_atds = consent_level::express_written;
  consent_level voice_prerecorded = consent_level::express_written;
  bool apply_calling_window = true;
  bool apply_restricted_days = true;
  bool apply_frequency_caps = true;
};

struct frequency_cap {
  std::vector<std::string> states;
  std::uint32_t max = 3;
  std::uint32_t window_hours = 24;
  friend bool operator==(const frequency_cap&, const frequency_cap&) = default;
};

/// Calling windows, restricted days, caps: the tables shared by both purposes.
struct policy_settings {
  std::string version;  // "" in the file = derived from a hash of the tables
  purpose_policy marketing;
  purpose_policy informational;
  week_windows federal;  // every US number
  week_windows canada;   // every Canadian number
  /// Region (US state or Canadian province code) -> its window. The engine applies the
  /// intersection of the country window and the region window.
  std::map<std::string, week_windows, std::less<>> regions;
  /// IANA zones assumed for a number whose area code has no zone data (intersected).
  std::vector<std::string> unknown_zone_fallback;
  std::vector<std::string> sunday_ban;  // regions where Sundays are restricted days
  /// Date -> regions where that day is a restricted holiday.
  std::map<date::year_month_day, std::vector<std::string>> holidays;
  std::vector<frequency_cap> frequency_caps;

  const purpose_policy& for_purpose(purpose p) const noexcept {
    return p == purpose::marketing ? marketing : informational;
  }
  /// The window for a region ("" or unknown: the country window). `canadian` picks the base.
  week_windows window_for(std::string_view region, bool canadian) const;
};

enum class role : std::uint8_t { check = 1, send = 2, consent = 4, admin = 8 };

struct api_key_settings {
  std::string name;
  std::string sha256;       // 64 lowercase hex digits of SHA-256(key)
  std::uint8_t roles = 0;   // bit set of `role`
  bool has(role r) const noexcept { return roles & std::uint8_t(r); }
};

/// The whole configuration. Immutable after load; safe to read from any thread.
struct settings {
  std::string origin;  // file path or "embedded defaults"
  server_settings server;
  api_settings api;
  http_settings http;
  redis_settings redis;
  evidence_settings evidence;
  policy_settings policy;
  keyword_settings keywords;
  std::vector<sender_settings> senders;    // sorted by name
  std::vector<carrier_settings> carriers;  // sorted by name
  std::vector<list_settings> lists;        // sorted by name
  std::vector<api_key_settings> api_keys;  // in file order
  dialer_settings dialer;                  // [dialer.fastagi], [dialer.sip]
  queue_settings queue;                    // [queue]
  /// Key paths of secrets written in the file itself (not env:), e.g. "carriers.twilio.auth_token".
  std::vector<std::string> inline_secrets;
  /// Key paths of `env:` secrets left empty because the loader was told they are not needed
  /// (load_options::needs_secret) and their variable is unset.
  std::vector<std::string> unresolved_secrets;

  /// The sender that owns an E.164 number (as "+14155552671"), or nullptr.
  const sender_settings* sender_for_number(std::string_view e164) const;
  const sender_settings* sender(std::string_view name) const;
  /// The sender a request that names none uses: the only sender, or nullptr if several.
  const sender_settings* sole_sender() const;
  const carrier_settings* carrier(std::string_view name) const;
  const list_settings* list(std::string_view name) const;

  /// Built by the loader after all checks; maps number -> index into senders.
  std::unordered_map<std::string, std::size_t, string_hash, std::equal_to<>> number_owner;
};

/// `rel` resolved against server.data_dir (absolute paths are returned as they are).
std::filesystem::path resolve_path(const settings& s, const std::filesystem::path& rel);

}  // namespace stopgate::config
