// Readers for the named tables: [senders.NAME], [carriers.NAME], [lists.NAME], [[api_keys]].
#include "config/defaults.hpp"
#include "config/load_detail.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stopgate::config::detail {
namespace {

bool is_name(std::string_view s, std::size_t max = 64) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

/// Calls `f(name, reader)` for each sub-table of a table of named tables.
template <class F>
void for_each_named(table_reader& t, F&& f) {
  if (!t.table()) return;
  for (auto&& [k, v] : *t.table()) {
    std::string name(k.str());
    t.get(name);
    if (!v.is_table()) {
      t.problem(name, fmt::format("must be a table ([{}])", t.key_path(name)), &v);
      continue;
    }
    f(name, table_reader(v.as_table(), t.key_path(name), t.context()));
  }
}

/// Replaces {name} in a reply template; any other {...} is a problem.
void read_template(table_reader& t, std::string_view key, const std::string& display,
                   std::string& out) {
  std::string raw;
  if (!t.read(key, raw)) raw = out;
  std::string text;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '{') {
      if (raw.compare(i, 6, "{name}") == 0) {
        text += display;
        i += 5;
        continue;
      }
      t.problem(key, "the only placeholder is {name}", t.get(key));
      return;
    }
    text.push_back(raw[i]);
  }
  if (text.size() > 1600)
    t.problem(key, "must be at most 1600 characters (10 SMS segments)", t.get(key));
  out = std::move(text);
}

void read_required(table_reader& t, std::string_view key, std::string& out) {
  if (!t.get(key)) {
    t.problem(key, "is required", nullptr);
    return;
  }
  if (t.read(key, out) && out.empty()) t.problem(key, "must not be empty", t.get(key));
}

void read_required_secret(table_reader& t, std::string_view key, secret& out) {
  if (!t.get(key)) {
    t.problem(key, "is required (the secret itself or \"env:NAME\")", nullptr);
    return;
  }
  std::string raw;
  if (t.read(key, raw) && raw.empty()) {
    t.problem(key, "must not be empty", t.get(key));
    return;
  }
  t.read_secret(key, out);
}

void read_twilio(table_reader& t, twilio_credentials& c) {
  read_required(t, "account_sid", c.account_sid);
  if (!c.account_sid.empty() && (!c.account_sid.starts_with("AC") || c.account_sid.size() != 34))
    t.problem("account_sid", "must be \"AC\" followed by 32 hex digits", t.get("account_sid"));
  read_required_secret(t, "auth_token", c.auth_token);
}

void read_telnyx(table_reader& t, telnyx_credentials& c) {
  read_required_secret(t, "api_key", c.api_key);
  std::string key;
  read_required(t, "public_key", key);
  if (!key.empty()) {
    auto bytes = decode_base64(key);
    if (!bytes || bytes->size() != 32)
      t.problem("public_key", "must be the base64 Ed25519 public key (32 bytes) from the Telnyx "
                              "portal", t.get("public_key"));
    else
      c.public_key = std::move(*bytes);
  }
}

void read_bandwidth(table_reader& t, bandwidth_credentials& c) {
  read_required(t, "account_id", c.account_id);
  read_required(t, "application_id", c.application_id);
  t.read("username", c.username);
  t.read_secret("password", c.password);
  t.read_secret("token", c.token);
  bool basic = !c.username.empty() || t.get("password");
  bool bearer = t.get("token") != nullptr;
  if (basic == bearer)
    t.problem("token", "set either username + password or token (not both)", t.get("token"));
  else if (basic && (c.username.empty() || !t.get("password")))
    t.problem(c.username.empty() ? "username" : "password",
              "username and password must be set together", nullptr);
  // Bandwidth webhooks carry no signature; basic auth is their only authentication.
  read_required(t, "webhook_username", c.webhook_username);
  read_required_secret(t, "webhook_password", c.webhook_password);
}

void read_vonage(table_reader& t, vonage_credentials& c) {
  read_required(t, "api_key", c.api_key);
  read_required_secret(t, "api_secret", c.api_secret);
  read_required_secret(t, "signature_secret", c.signature_secret);
  t.read_enum<vonage_signature_method>("signature_method", c.signature_method,
                                       {{"md5hash", vonage_signature_method::md5hash},
                                        {"md5", vonage_signature_method::md5},
                                        {"sha1", vonage_signature_method::sha1},
                                        {"sha256", vonage_signature_method::sha256},
                                        {"sha512", vonage_signature_method::sha512}});
}

void read_plivo(table_reader& t, plivo_credentials& c) {
  read_required(t, "auth_id", c.auth_id);
  read_required_secret(t, "auth_token", c.auth_token);
}

void read_sinch(table_reader& t, sinch_credentials& c) {
  read_required(t, "service_plan_id", c.service_plan_id);
  read_required_secret(t, "api_token", c.api_token);
  read_required_secret(t, "webhook_secret", c.webhook_secret);
}

void read_http_carrier(table_reader& t, http_credentials& c) {
  read_required(t, "url", c.url);
  if (!c.url.empty() && !is_http_url(c.url))
    t.problem("url", "must be an http:// or https:// URL", t.get("url"));
  table_reader h = t.sub("headers");
  if (h.table()) {
    for (auto&& [k, v] : *h.table()) {
      std::string name(k.str());
      secret value;
      if (!is_name(name, 128)) h.problem(name, "is not a valid header name", &v);
      if (h.read_secret(name, value)) c.headers.emplace_back(name, std::move(value));
    }
  }
  t.read_secret("webhook_secret", c.webhook_secret);
}

void read_sandbox(table_reader& t, sandbox_credentials& c) {
  std::string outbox;
  if (t.read("outbox", outbox)) {
    if (outbox.empty()) t.problem("outbox", "must not be empty", t.get("outbox"));
    else c.outbox = outbox;
  }
  t.read_secret("webhook_secret", c.webhook_secret);
}

std::string default_reason(const std::string& name, list_kind kind) {
  if (name == "federal") return "federal_dnc";
  if (name.starts_with("state:")) return "state_dnc:" + name.substr(6);
  if (name == "canada") return "canada_dncl";
  switch (kind) {
    case list_kind::internal: return "internal_dnc";
    case list_kind::litigator: return "litigator";
    case list_kind::registry: return "registry_dnc:" + name;
  }
  return name;
}

}  // namespace

void read_senders(table_reader t, const keyword_settings& global,
                  std::vector<sender_settings>& out) {
  for_each_named(t, [&](const std::string& name, table_reader s) {
    if (!is_name(name)) t.problem(name, "sender names must match [A-Za-z0-9_.-]{1,64}", nullptr);
    sender_settings snd;
    snd.name = name;
    snd.display_name = name;
    s.read("display_name", snd.display_name);
    if (s.read("numbers", snd.numbers)) {
      for (const auto& n : snd.numbers)
        if (!is_e164_shape(n))
          s.problem("numbers", fmt::format("\"{}\" is not E.164 ('+' then 7 to 15 digits, e.g. "
                                           "\"+14155552671\")", n), s.get("numbers"));
    }
    if (!s.read("route", snd.route) && !s.get("route"))
      s.problem("route", "is required: the carriers to send through, first is primary", nullptr);
    else if (snd.route.empty() && s.get("route"))
      s.problem("route", "must name at least one carrier", s.get("route"));
    snd.help_reply = "{name}: reply STOP to unsubscribe, START to resubscribe. Msg & data rates "
                     "may apply.";
    snd.optout_reply = "You are unsubscribed from {name}. No more messages will be sent. Reply "
                       "HELP for help.";
    snd.optin_reply = "You are subscribed to {name} again. Reply HELP for help, STOP to "
                      "unsubscribe.";
    read_template(s, "help_reply", snd.display_name, snd.help_reply);
    read_template(s, "optout_reply", snd.display_name, snd.optout_reply);
    read_template(s, "optin_reply", snd.display_name, snd.optin_reply);
    if (s.read("forward_url", snd.forward_url) && !snd.forward_url.empty() &&
        !is_http_url(snd.forward_url))
      s.problem("forward_url", "must be an http:// or https:// URL or \"\"", s.get("forward_url"));
    if (s.read("status_url", snd.status_url) && !snd.status_url.empty() &&
        !is_http_url(snd.status_url))
      s.problem("status_url", "must be an http:// or https:// URL or \"\"", s.get("status_url"));
    s.read_secret("status_secret", snd.status_secret);
    if (!snd.status_url.empty() && !s.get("status_secret"))
      s.problem("status_secret", "is required with status_url (the webhook's receiver checks "
                "X-Stopgate-Signature with it)", nullptr);
    else if (!snd.status_secret.empty() && snd.status_secret.reveal().size() < 16)
      s.problem("status_secret", "must be at least 16 bytes", s.get("status_secret"));
    s.read_int("rate_per_number_per_second", snd.rate_per_number_per_second, 0, 100'000);
    s.read_int("rate_per_number_per_minute", snd.rate_per_number_per_minute, 0, 6'000'000);
    snd.keywords = global;
    table_reader kw = s.sub("keywords");
    if (kw.present()) read_keywords(kw, snd.keywords);
    s.finish();
    out.push_back(std::move(snd));
  });
}

void read_carriers(table_reader t, std::vector<carrier_settings>& out) {
  for_each_named(t, [&](const std::string& name, table_reader c) {
    if (!is_name(name)) t.problem(name, "carrier names must match [A-Za-z0-9_.-]{1,64}", nullptr);
    carrier_settings cs;
    cs.name = name;
    if (!c.get("type")) {
      c.problem("type", "is required: twilio, telnyx, bandwidth, vonage, plivo, sinch, http or "
                        "sandbox", nullptr);
      out.push_back(std::move(cs));  // keeps routes to it from being reported as well
      return;
    }
    if (!c.read_enum<carrier_type>("type", cs.type,
                                   {{"twilio", carrier_type::twilio},
                                    {"telnyx", carrier_type::telnyx},
                                    {"bandwidth", carrier_type::bandwidth},
                                    {"vonage", carrier_type::vonage},
                                    {"plivo", carrier_type::plivo},
                                    {"sinch", carrier_type::sinch},
                                    {"http", carrier_type::http},
                                    {"sandbox", carrier_type::sandbox}})) {
      out.push_back(std::move(cs));
      return;
    }
    cs.base_url = default_base_url(cs.type);
    if (!cs.base_url.empty() && c.read("base_url", cs.base_url)) {
      while (cs.base_url.ends_with('/')) cs.base_url.pop_back();
      if (!is_http_url(cs.base_url))
        c.problem("base_url", "must be an http:// or https:// URL", c.get("base_url"));
    }
    switch (cs.type) {
      case carrier_type::twilio: read_twilio(c, cs.credentials.emplace<twilio_credentials>()); break;
      case carrier_type::telnyx: read_telnyx(c, cs.credentials.emplace<telnyx_credentials>()); break;
      case carrier_type::bandwidth:
        read_bandwidth(c, cs.credentials.emplace<bandwidth_credentials>());
        break;
      case carrier_type::vonage: read_vonage(c, cs.credentials.emplace<vonage_credentials>()); break;
      case carrier_type::plivo: read_plivo(c, cs.credentials.emplace<plivo_credentials>()); break;
      case carrier_type::sinch: read_sinch(c, cs.credentials.emplace<sinch_credentials>()); break;
      case carrier_type::http: read_http_carrier(c, cs.credentials.emplace<http_credentials>()); break;
      case carrier_type::sandbox:
        read_sandbox(c, cs.credentials.emplace<sandbox_credentials>());
        break;
    }
    c.read_int("rate_per_second", cs.rate_per_second, 1, 100'000);
    c.read_int("rate_per_minute", cs.rate_per_minute, 0, 6'000'000);
    c.read_int("max_in_flight", cs.max_in_flight, 1, 10'000);
    c.read_int("timeout_ms", cs.timeout_ms, 100, 120'000);
    c.read_int("retries", cs.retries, 0, 10);
    c.read_int("backoff_initial_ms", cs.backoff_initial_ms, 1, 60'000);
    c.read_int("backoff_max_ms", cs.backoff_max_ms, 1, 600'000);
    c.read_int("circuit_failure_threshold", cs.circuit_failure_threshold, 1, 1000);
    c.read_int("circuit_open_ms", cs.circuit_open_ms, 100, 3'600'000);
    // Only NANP national numbers can be told from international ones by their shape; other
    // countries' national numbers (variable lengths, trunk prefixes) would be guesses.
    if (c.read("default_country", cs.default_country) && cs.default_country != "1" &&
        !cs.default_country.empty())
      c.problem("default_country",
                "must be \"1\" (bare 10-digit numbers are NANP numbers) or \"\" (the carrier "
                "sends international numbers only)",
                c.get("default_country"));
    c.finish();
    out.push_back(std::move(cs));
  });
}

void read_lists(table_reader t, std::vector<list_settings>& out) {
  for_each_named(t, [&](const std::string& name, table_reader l) {
    bool state = name.starts_with("state:");
    if (state ? !is_region_code(name.substr(6)) || is_canadian_region(name.substr(6))
              : !is_name(name))
      t.problem(name, "list names are [A-Za-z0-9_.-]{1,64} or \"state:XX\" with a US state code",
                nullptr);
    list_settings ls;
    ls.name = name;
    if (!l.read_enum<list_kind>("kind", ls.kind,
                                {{"registry", list_kind::registry},
                                 {"internal", list_kind::internal},
                                 {"litigator", list_kind::litigator}}) &&
        !l.get("kind")) {
      // Well-known names imply their kind.
      if (name == "internal") ls.kind = list_kind::internal;
      else if (name == "litigator") ls.kind = list_kind::litigator;
    }
    bool registry = ls.kind == list_kind::registry;
    ls.max_age_days = registry ? 31 : 0;
    ls.required = registry;
    ls.exempt_with_consent = registry;
    ls.ebr_purchase_days = registry ? 540 : 0;
    ls.ebr_inquiry_days = registry ? (name == "canada" ? 180 : 90) : 0;
    ls.reason = default_reason(name, ls.kind);
    if (name == "federal") ls.covers = {list_coverage::scope::us, {}};
    else if (name == "canada") ls.covers = {list_coverage::scope::canada, {}};
    else if (state) ls.covers = {list_coverage::scope::region, name.substr(6)};

    std::vector<std::string> purposes;
    if (l.read("purposes", purposes)) {
      ls.purposes = 0;
      for (const auto& p : purposes) {
        if (p == "marketing") ls.purposes |= std::uint8_t(purpose::marketing);
        else if (p == "informational") ls.purposes |= std::uint8_t(purpose::informational);
        else l.problem("purposes", fmt::format("\"{}\" is not marketing or informational", p),
                       l.get("purposes"));
      }
      if (purposes.empty()) l.problem("purposes", "must name at least one purpose", l.get("purposes"));
    }
    l.read_int("max_age_days", ls.max_age_days, 0, 3650);
    l.read("exempt_with_consent", ls.exempt_with_consent);
    l.read_int("ebr_purchase_days", ls.ebr_purchase_days, 0, 3650);
    l.read_int("ebr_inquiry_days", ls.ebr_inquiry_days, 0, 3650);
    l.read("required", ls.required);
    if (l.read("reason", ls.reason) &&
        (ls.reason.empty() || ls.reason.size() > 64 ||
         !std::all_of(ls.reason.begin(), ls.reason.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
                  (c >= 'A' && c <= 'Z');
         })))
      l.problem("reason", "must be 1..64 of [a-z0-9_:] and A-Z (e.g. \"state_dnc:TX\")",
                l.get("reason"));
    std::string covers;
    if (l.read("covers", covers)) {
      if (covers == "all") ls.covers = {list_coverage::scope::all, {}};
      else if (covers == "us") ls.covers = {list_coverage::scope::us, {}};
      else if (covers == "canada") ls.covers = {list_coverage::scope::canada, {}};
      else if (covers.starts_with("region:") && is_region_code(covers.substr(7)))
        ls.covers = {list_coverage::scope::region, covers.substr(7)};
      else
        l.problem("covers", "must be \"all\", \"us\", \"canada\" or \"region:XX\" (a state or "
                            "province code)", l.get("covers"));
    }
    l.finish();
    out.push_back(std::move(ls));
  });
}

void read_api_keys(table_reader& top, std::vector<api_key_settings>& out) {
  const toml::node* n = top.get("api_keys");
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables()) {
    top.problem("api_keys", "must be an array of tables ([[api_keys]])", n);
    return;
  }
  for (std::size_t i = 0; i < a->size(); ++i) {
    table_reader k(a->get(i)->as_table(), fmt::format("api_keys[{}]", i), top.context());
    api_key_settings key;
    read_required(k, "name", key.name);
    if (!key.name.empty() && !is_name(key.name))
      k.problem("name", "must match [A-Za-z0-9_.-]{1,64}", k.get("name"));
    for (const auto& other : out)
      if (!key.name.empty() && other.name == key.name)
        k.problem("name", fmt::format("duplicate api key name \"{}\"", key.name), k.get("name"));
    read_required(k, "sha256", key.sha256);
    if (!key.sha256.empty() &&
        (key.sha256.size() != 64 ||
         !std::all_of(key.sha256.begin(), key.sha256.end(),
                      [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })))
      k.problem("sha256",
                "must be 64 lowercase hex digits (the SHA-256 of the key; stopgatectl keys new "
                "prints it)", k.get("sha256"));
    std::vector<std::string> roles;
    if (!k.get("roles")) k.problem("roles", "is required: some of check, send, consent, admin");
    if (k.read("roles", roles)) {
      for (const auto& r : roles) {
        if (r == "check") key.roles |= std::uint8_t(role::check);
        else if (r == "send") key.roles |= std::uint8_t(role::send);
        else if (r == "consent") key.roles |= std::uint8_t(role::consent);
        else if (r == "admin") key.roles |= std::uint8_t(role::admin);
        else k.problem("roles", fmt::format("\"{}\" is not check, send, consent or admin", r),
                       k.get("roles"));
      }
      if (roles.empty()) k.problem("roles", "must name at least one role", k.get("roles"));
    }
    k.finish();
    out.push_back(std::move(key));
  }
}

}  // namespace stopgate::config::detail
