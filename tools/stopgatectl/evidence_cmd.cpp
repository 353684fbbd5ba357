// `stopgatectl evidence verify|export|reindex` (SPEC sections 7 and 8, docs/EVIDENCE.md).
#include "dnc/model/phone_number.hpp"
#include "gateway/evidence/error.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/index.hpp"
#include "gateway/evidence/verify.hpp"
#include "tools/stopgatectl/command.hpp"
#include "tools/stopgatectl/context.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::ctl {

namespace {

namespace ev = stopgate::evidence;

constexpr const char* usage_text =
    "usage: stopgatectl evidence verify [DIR] [--key-env NAME | --key-file FILE] [--chain-only]\n"
    "       stopgatectl evidence export (--to NUMBER | --message-id ID) [--from T] [--until T]\n"
    "                                   [DIR]\n"
    "                                   [--decrypt [--enc-key-env NAME | --enc-key-file FILE]]\n"
    "       stopgatectl evidence reindex [DIR]\n"
    "\n"
    "DIR (or --dir DIR) defaults to the configured evidence.dir (./var/evidence on the defaults).\n"
    "verify: exit 0 only if every hash, link and checkpoint HMAC holds. The HMAC key is read\n"
    "  from the environment variable --key-env (default STOPGATE_EVIDENCE_KEY) or --key-file\n"
    "  (raw bytes; one trailing newline ignored). Without a key verify fails (exit 1) unless\n"
    "  --chain-only asks for the hash chain alone.\n"
    "export: records whose to/from/number field is NUMBER, in order, one JSON line each;\n"
    "  --message-id ID: a message's whole life (queued, decision, released, send,\n"
    "  carrier_result, status, cancelled, expired), alone or with --to (faster: by index);\n"
    "  T is YYYY-MM-DD or RFC 3339 UTC (--from inclusive, --until exclusive). --decrypt needs\n"
    "  the AES key (64 hex digits or base64) from --enc-key-env (default\n"
    "  STOPGATE_EVIDENCE_ENC_KEY) or --enc-key-file.\n";

struct parsed_args {
  std::string dir = "var/evidence";
  std::string key_env = "STOPGATE_EVIDENCE_KEY", key_file;
  std::string enc_key_env = "STOPGATE_EVIDENCE_ENC_KEY", enc_key_file;
  std::string to, from, until, message_id;
  bool chain_only = false, decrypt = false;
};

int bad_usage(const std::string& why) {
  std::fprintf(stderr, "stopgatectl evidence: %s\n\n%s", why.c_str(), usage_text);
  return 2;
}

// The key from a file (when given) or the environment; nullopt when neither has one.
// A key taken from the configuration (inline or env: in the TOML file).
std::string config_key;

std::optional<std::string> read_key(const std::string& file, const std::string& env,
                                    bool* unreadable) {
  *unreadable = false;
  if (file.empty() && !config_key.empty() && std::getenv(env.c_str()) == nullptr) return config_key;
  if (!file.empty()) {
    auto k = read_key_file(file);
    if (!k) *unreadable = true;
    return k;
  }
  const char* v = std::getenv(env.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int run_verify(const parsed_args& a) {
  bool unreadable = false;
  const auto key = read_key(a.key_file, a.key_env, &unreadable);
  if (unreadable) {
    std::fprintf(stderr, "evidence verify: cannot read key file %s\n", a.key_file.c_str());
    return 1;
  }
  auto r = ev::verify_directory(a.dir, key.value_or(""));
  if (!r) {
    std::fprintf(stderr, "evidence verify: %s: %s\n", a.dir.c_str(), r.error().message().c_str());
    return 1;
  }
  const double mb = double(r->bytes) / 1e6;
  if (r->failure) {
    std::printf("FAILED: %s\n", r->failure->describe().c_str());
    std::printf("checked %llu records (%.1f MB) before the failure\n",
                (unsigned long long)r->records, mb);
    return 1;
  }
  std::printf("chain intact: %llu records in %llu segments (%.1f MB), seq %llu..%llu%s\n",
              (unsigned long long)r->records, (unsigned long long)r->segments, mb,
              (unsigned long long)r->first_seq, (unsigned long long)r->last_seq,
              r->anchored_by_retention ? " (earlier records deleted by retention, anchored)" : "");
  std::printf("%.2f s, %.0f MB/s\n", r->seconds, r->seconds > 0 ? mb / r->seconds : 0.0);
  if (r->uncovered > 0)
    std::printf(
        "note: the last %llu records follow the newest checkpoint (not yet covered "
        "by an HMAC)\n",
        (unsigned long long)r->uncovered);
  if (!key) {
    std::printf("checkpoints NOT checked: no key (set %s or use --key-file)\n", a.key_env.c_str());
    if (!a.chain_only) return 1;
    return 0;
  }
  std::printf("%llu checkpoints, every HMAC holds\n", (unsigned long long)r->checkpoints_checked);
  return 0;
}

int run_export(const parsed_args& a) {
  if (a.to.empty() && a.message_id.empty())
    return bad_usage("export needs --to NUMBER or --message-id ID");
  ev::export_query q;
  q.message_id = a.message_id;
  if (!a.to.empty()) {
    auto number = dnc::model::parse_phone(a.to);
    if (!number) return bad_usage("--to " + a.to + ": " + number.error().message());
    q.number = number->e164();
  }
  if (!a.from.empty()) {
    q.from = ev::parse_ts(a.from);
    if (!q.from) return bad_usage("--from " + a.from + ": not YYYY-MM-DD or RFC 3339 UTC");
  }
  if (!a.until.empty()) {
    q.until = ev::parse_ts(a.until);
    if (!q.until) return bad_usage("--until " + a.until + ": not YYYY-MM-DD or RFC 3339 UTC");
  }
  std::optional<ev::aes_gcm> cipher;
  if (a.decrypt) {
    bool unreadable = false;
    const auto text = read_key(a.enc_key_file, a.enc_key_env, &unreadable);
    if (!text) {
      std::fprintf(stderr, "evidence export: --decrypt needs the AES key (%s or --enc-key-file)\n",
                   a.enc_key_env.c_str());
      return 1;
    }
    auto key = ev::parse_aes_key(*text);
    if (!key) {
      std::fprintf(stderr,
                   "evidence export: the AES key must be 64 hex digits or base64 of 32 bytes\n");
      return 1;
    }
    cipher.emplace(*key);
    q.decrypt = &*cipher;
  }
  auto r = ev::export_records(a.dir, q, [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  });
  if (!r) {
    std::fprintf(stderr, "evidence export: %s: %s\n", a.dir.c_str(), r.error().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "%llu records (%llu indexes rebuilt)\n", (unsigned long long)r->records,
               (unsigned long long)r->indexes_rebuilt);
  return 0;
}

int run(const global_options& g, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage_text, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string sub = args[0];
  parsed_args a;
  bool dir_given = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& s = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) return false;
      into = args[++i];
      return true;
    };
    bool ok = true;
    if (s == "--dir")
      ok = value(a.dir), dir_given = true;
    else if (s == "--key-env")
      ok = value(a.key_env);
    else if (s == "--key-file")
      ok = value(a.key_file);
    else if (s == "--enc-key-env")
      ok = value(a.enc_key_env);
    else if (s == "--enc-key-file")
      ok = value(a.enc_key_file);
    else if (s == "--to")
      ok = value(a.to);
    else if (s == "--message-id")
      ok = value(a.message_id);
    else if (s == "--from")
      ok = value(a.from);
    else if (s == "--until")
      ok = value(a.until);
    else if (s == "--chain-only")
      a.chain_only = true;
    else if (s == "--decrypt")
      a.decrypt = true;
    else if (s == "--help" || s == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    } else if (!s.empty() && s[0] == '-')
      return bad_usage("unknown option " + s);
    else if (!dir_given)
      a.dir = s, dir_given = true;
    else
      return bad_usage("unexpected argument " + s);
    if (!ok) return bad_usage(s + " needs a value");
  }
  // Without --dir or a key of its own, the command reads the gateway's configuration: the
  // evidence directory and the checkpoint key (inline, env: or the key file).
  const bool key_given = !a.key_file.empty() || std::getenv(a.key_env.c_str()) != nullptr;
  if (!dir_given || (!key_given && sub == "verify")) {
    // Only a full verify without a key of its own needs the configured checkpoint key.
    const bool needs_key = sub == "verify" && !key_given && !a.chain_only;
    auto settings = load_settings(
        g, [needs_key](std::string_view path) { return needs_key && path == "evidence.hmac_key"; });
    if (!settings) return 1;
    if (!dir_given) a.dir = settings->evidence.dir.string();
    if (!key_given) {
      if (!settings->evidence.hmac_key_file.empty()) {
        if (std::filesystem::exists(settings->evidence.hmac_key_file))
          a.key_file = settings->evidence.hmac_key_file.string();
      } else if (!settings->evidence.hmac_key.empty()) {
        config_key = settings->evidence.hmac_key.reveal();
      }
    }
  }
  if (sub == "verify") return run_verify(a);
  if (sub == "export") return run_export(a);
  if (sub == "reindex") {
    auto n = ev::reindex(a.dir);
    if (!n) {
      std::fprintf(stderr, "evidence reindex: %s: %s\n", a.dir.c_str(),
                   n.error().message().c_str());
      return 1;
    }
    std::printf("indexed %llu segments\n", (unsigned long long)*n);
    return 0;
  }
  return bad_usage("unknown subcommand " + sub);
}

const command_registration reg({"evidence", "verify or export the evidence log", &run});

}  // namespace

}  // namespace stopgate::ctl
