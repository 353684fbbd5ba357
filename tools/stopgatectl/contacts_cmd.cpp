// `stopgatectl contacts rebuild --from-evidence`: the evidence log is the source of truth for
// opt-outs and consents; this replays its optout, optin, consent and forget records into the
// contact store, in the order they were written (docs/REDIS.md, "Data loss and the rebuild").
//
// Replaying is idempotent: an opt-out keeps the latest per sender, a consent's id is derived
// from its evidence id (the same consent is written again, not a second one), an evidence id
// already in a number's index is not added twice, and an opt-in lifts only older opt-outs. So a
// rebuild may be run again, over a store that still holds part of the data, or cut short and
// rerun.
#include "dnc/contacts/codec.hpp"
#include "dnc/contacts/store.hpp"
#include "dnc/model/phone_number.hpp"
#include "gateway/contact_secret.hpp"
#include "gateway/evidence/field_crypto.hpp"
#include "gateway/evidence/record.hpp"
#include "gateway/evidence/segment.hpp"
#include "gateway/rfc3339.hpp"
#include "tools/stopgatectl/command.hpp"
#include "tools/stopgatectl/context.hpp"
#include "tools/stopgatectl/progress.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_set>
#include <vector>

namespace stopgate::ctl {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace po = boost::program_options;
namespace fs = std::filesystem;
using boost::system::error_code;

constexpr const char* usage =
    "usage: stopgatectl contacts rebuild --from-evidence [--dir DIR]... [--since T] [options]\n"
    "\n"
    "Replays every opt-out, opt-in, consent and forget of the evidence log into the contact\n"
    "store (the Redis of --config / --redis), in the order they were recorded: after Redis lost\n"
    "its data (a restart without persistence, FLUSHALL, a failover to a replica that missed\n"
    "writes), or to fill a new Redis. Idempotent: running it again changes nothing. DIR defaults\n"
    "to the configured evidence.dir; give --dir once per gateway whose log should be replayed\n"
    "(their records are merged by time). T is YYYY-MM-DD or RFC 3339 UTC: only records from then\n"
    "on. When it finishes it marks the store rebuilt, which clears the gateways' contact_data\n"
    "readiness condition.\n";

// The record types a rebuild replays.
enum class kind { optout, optin, consent, forget };

// One contact record ready to apply, with what ordering needs.
struct replay_record {
  std::string ts;  // 27 characters, compares as time
  std::size_t source = 0;
  kind type = kind::optout;
  json::object rec;
};

// Reads one instance's segments in chain order and yields its contact records. Lines of other
// types are skipped before any JSON parsing (a substring test).
class instance_reader {
 public:
  instance_reader(std::vector<fs::path> files, std::size_t index, std::uint64_t* bytes_read)
      : files_(std::move(files)), index_(index), bytes_read_(bytes_read) {}
  ~instance_reader() {
    if (f_) std::fclose(f_);
    std::free(line_);
  }
  instance_reader(const instance_reader&) = delete;
  instance_reader& operator=(const instance_reader&) = delete;

  /// The next contact record, nullopt at the end; an unreadable file or line is an error
  /// (`why` says which).
  std::optional<replay_record> next(std::string& why, std::uint64_t& lines) {
    for (;;) {
      if (!f_) {
        if (next_file_ == files_.size()) return std::nullopt;
        current_ = files_[next_file_++];
        f_ = std::fopen(current_.c_str(), "rb");
        if (!f_) {
          why = current_.string() + ": " + std::strerror(errno);
          return std::nullopt;
        }
        line_no_ = 0;
      }
      const ssize_t n = ::getline(&line_, &cap_, f_);
      if (n < 0) {
        std::fclose(f_);
        f_ = nullptr;
        continue;
      }
      *bytes_read_ += std::uint64_t(n);
      ++line_no_;
      // A torn last line (a crash mid-write) is cut by the gateway's own recovery; skip it.
      if (line_[n - 1] != '\n') continue;
      ++lines;
      const std::string_view line(line_, std::size_t(n - 1));
      std::optional<kind> k;
      if (line.find("\"type\":\"optout\"") != std::string_view::npos) k = kind::optout;
      else if (line.find("\"type\":\"optin\"") != std::string_view::npos) k = kind::optin;
      else if (line.find("\"type\":\"consent\"") != std::string_view::npos) k = kind::consent;
      else if (line.find("\"type\":\"forget\"") != std::string_view::npos) k = kind::forget;
      if (!k) continue;
      error_code ec;
      json::value v = json::parse(line, ec);
      if (ec || !v.is_object()) {
        why = current_.string() + " line " + std::to_string(line_no_) + ": not a JSON record";
        return std::nullopt;
      }
      auto& o = v.as_object();
      const auto* type = o.if_contains("type");
      const auto* ts = o.if_contains("ts");
      if (!type || !type->is_string() || !ts || !ts->is_string()) continue;
      // The substring may have matched inside another field; the top-level type decides.
      static constexpr std::pair<std::string_view, kind> types[] = {
          {"optout", kind::optout}, {"optin", kind::optin}, {"consent", kind::consent}, {"forget", kind::forget}};
      std::optional<kind> top;
      for (auto& [name, t] : types)
        if (type->as_string() == name) top = t;
      if (!top) continue;
      replay_record r;
      r.ts = std::string(ts->as_string());
      r.source = index_;
      r.type = *top;
      r.rec = std::move(o);
      return r;
    }
  }

 private:
  std::vector<fs::path> files_;
  std::size_t next_file_ = 0;
  std::size_t index_;
  std::uint64_t* bytes_read_;
  fs::path current_;
  std::FILE* f_ = nullptr;
  char* line_ = nullptr;
  std::size_t cap_ = 0;
  std::uint64_t line_no_ = 0;
};

struct tally {
  std::uint64_t lines = 0, optouts = 0, optouts_kept = 0, optins = 0, consents = 0, forgets = 0,
                before_since = 0, unusable = 0, sealed = 0;
  std::uint64_t replayed() const { return optouts + optins + consents + forgets; }
};

std::string str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// What one record asks of the store, read and checked before anything is sent.
struct store_call {
  kind type = kind::optout;
  dnc::model::phone_number number;
  std::string sender, source, evidence_id;
  dnc::model::sys_time at{};
  dnc::contacts::consent_record consent;
};

// Nullopt (and `why`) for a record the store could not take: a number or time that does not
// read. Sealed texts are decrypted with `cipher` when given, else left out (counted).
std::optional<store_call> read_call(replay_record& r, evidence::aes_gcm* cipher, tally& t,
                                    std::string& why) {
  store_call c;
  c.type = r.type;
  c.evidence_id = str(r.rec, "id");
  auto number = dnc::model::parse_phone(str(r.rec, "to"));
  if (!number) {
    why = "no readable number in 'to'";
    return std::nullopt;
  }
  c.number = *number;
  c.sender = str(r.rec, "sender");
  auto time_of = [&](std::string_view field) -> std::optional<dnc::model::sys_time> {
    return gateway::parse_rfc3339(str(r.rec, field));
  };
  switch (r.type) {
    case kind::optout: {
      auto at = time_of("at");
      if (!at || c.sender.empty()) {
        why = "an opt-out needs 'at' and 'sender'";
        return std::nullopt;
      }
      c.at = *at;
      // The gateway's own source strings: webhooks and carrier codes record theirs, the API
      // records the channel it was given.
      c.source = str(r.rec, "source");
      if (c.source.empty()) c.source = "api:" + (str(r.rec, "channel").empty() ? "api" : str(r.rec, "channel"));
      break;
    }
    case kind::forget: {
      auto at = time_of("at");
      if (!at) {
        why = "a forget needs 'at'";
        return std::nullopt;
      }
      c.at = *at;
      break;
    }
    case kind::optin:
    case kind::consent: {
      if (cipher) {
        if (auto ec = evidence::decrypt_fields(r.rec, *cipher, c.evidence_id)) {
          why = "a sealed field does not decrypt under the given key: " + ec.message();
          return std::nullopt;
        }
      }
      auto captured = time_of("captured_at");
      auto kind_v = dnc::contacts::contact_codec::parse_kind(str(r.rec, "kind"));
      if (!captured || !kind_v || c.sender.empty()) {
        why = "a consent needs 'captured_at', 'kind' and 'sender'";
        return std::nullopt;
      }
      auto& f = c.consent.fact;
      f.sender = c.sender;
      f.kind = *kind_v;
      f.captured_at = *captured;
      if (r.rec.contains("expires_at")) {
        f.expires_at = time_of("expires_at");
        if (!f.expires_at) {
          why = "'expires_at' does not read";
          return std::nullopt;
        }
      }
      f.evidence_id = c.evidence_id;
      auto& s = c.consent.source;
      s.method = str(r.rec, "method");
      s.url = str(r.rec, "url");
      s.ip = str(r.rec, "ip");
      s.user_agent = str(r.rec, "user_agent");
      s.proof = str(r.rec, "proof");
      s.text = str(r.rec, "text");
      if (const auto* text = r.rec.if_contains("text"); text && text->is_object()) ++t.sealed;
      break;
    }
  }
  return c;
}

int usage_error(const std::string& why, const po::options_description& desc) {
  std::fprintf(stderr, "stopgatectl contacts: %s\n\n%s\n", why.c_str(), usage);
  std::cerr << desc << "\n";
  return 2;
}

std::optional<std::string> key_from(const std::string& file, const std::string& env) {
  if (!file.empty()) return read_key_file(file);
  const char* v = std::getenv(env.c_str());
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

int run_rebuild(const global_options& g, const std::vector<std::string>& args) {
  bool from_evidence = false, dry_run = false;
  std::vector<std::string> dirs;
  std::string since, enc_env = "STOPGATE_EVIDENCE_ENC_KEY", enc_file;
  unsigned in_flight = 512;
  po::options_description desc("contacts rebuild options");
  desc.add_options()("help,h", "this text")("from-evidence", po::bool_switch(&from_evidence),
                                            "replay the evidence log (the only source today)")(
      "dir", po::value(&dirs), "an evidence directory (repeat for several gateways)")(
      "since", po::value(&since), "only records at or after T (YYYY-MM-DD or RFC 3339 UTC)")(
      "enc-key-env", po::value(&enc_env)->default_value(enc_env),
      "environment variable holding the evidence.encryption_key (sealed consent texts)")(
      "enc-key-file", po::value(&enc_file), "file holding that key")(
      "in-flight", po::value(&in_flight)->default_value(in_flight),
      "writes sent ahead of their answers")("dry-run", po::bool_switch(&dry_run),
                                            "read and check every record, write nothing");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return usage_error(e.what(), desc);
  }
  if (vm.count("help")) {
    std::printf("%s\n", usage);
    std::cout << desc << "\n";
    return 0;
  }
  if (!from_evidence) return usage_error("--from-evidence is required (the source to rebuild from)", desc);
  if (in_flight == 0) return usage_error("--in-flight must be at least 1", desc);
  std::string since_ts;
  if (!since.empty()) {
    auto t = evidence::parse_ts(since);
    if (!t) return usage_error("--since " + since + ": not YYYY-MM-DD or RFC 3339 UTC", desc);
    since_ts = evidence::format_ts(*t);
  }
  std::optional<evidence::aes_gcm> cipher;
  if (auto text = key_from(enc_file, enc_env)) {
    auto key = evidence::parse_aes_key(*text);
    if (!key) {
      std::fprintf(stderr, "stopgatectl contacts: the AES key must be 64 hex digits or base64 of 32 bytes\n");
      return 1;
    }
    cipher.emplace(*key);
  } else if (!enc_file.empty()) {
    std::fprintf(stderr, "stopgatectl contacts: cannot read %s\n", enc_file.c_str());
    return 1;
  }

  // The Redis first (and with it the configuration): nothing is read for a Redis not there.
  auto ctx = dry_run ? nullptr : open_redis(g, std::chrono::seconds(30));
  if (!dry_run && !ctx) return 1;
  if (dirs.empty()) {
    auto settings = ctx ? ctx->settings : load_settings(g, no_secrets);
    if (!settings) return 1;
    dirs.push_back(settings->evidence.dir.string());
  }

  // Every instance of every directory, each read in chain order, merged by time.
  std::uint64_t total_bytes = 0, bytes_read = 0;
  std::vector<std::unique_ptr<instance_reader>> readers;
  for (const auto& d : dirs) {
    auto segs = evidence::list_segments(d);
    if (!segs) {
      std::fprintf(stderr, "stopgatectl contacts: %s: %s\n", d.c_str(), segs.error().message().c_str());
      return 1;
    }
    std::string instance;
    std::vector<fs::path> files;
    auto flush = [&] {
      if (!files.empty()) readers.push_back(std::make_unique<instance_reader>(std::move(files), readers.size(), &bytes_read));
      files.clear();
    };
    for (auto& s : *segs) {
      if (s.name.instance != instance) flush();
      instance = s.name.instance;
      std::error_code fec;
      total_bytes += fs::file_size(s.path, fec);
      files.push_back(s.path);
    }
    flush();
  }
  if (readers.empty())
    std::fprintf(stderr, "stopgatectl contacts: no evidence segments in %s\n", dirs.front().c_str());

  tally t;
  std::string failure;
  auto later = [](const replay_record* a, const replay_record* b) {
    return a->ts != b->ts ? a->ts > b->ts : a->source > b->source;
  };
  std::vector<std::optional<replay_record>> heads(readers.size());
  std::priority_queue<const replay_record*, std::vector<const replay_record*>, decltype(later)> order(later);
  auto advance = [&](std::size_t i) {
    heads[i] = readers[i]->next(failure, t.lines);
    if (heads[i]) order.push(&*heads[i]);
  };
  for (std::size_t i = 0; i < readers.size() && failure.empty(); ++i) advance(i);

  const auto t0 = std::chrono::steady_clock::now();
  progress_bar bar(dry_run ? "checking" : "rebuilding", "records");
  int rc = 0;
  asio::io_context io;
  std::unique_ptr<redis::client> client;
  std::unique_ptr<dnc::contacts::contact_store> store;
  std::string secret_error;
  if (!dry_run) {
    // The pseudonym key the gateways use. Never created here: a running gateway that saw the
    // loss puts its own back within seconds, and one started later creates it; a key made here
    // could differ from the one running gateways hold.
    auto secret = gateway::read_contact_secret(ctx->options, std::chrono::seconds(5));
    if (!secret) {
      std::fprintf(stderr, "stopgatectl contacts: cannot reach Redis at %s: %s\n", ctx->where.c_str(),
                   secret.error().message().c_str());
      return 1;
    }
    if (!*secret) {
      std::fprintf(stderr,
                   "stopgatectl contacts: %s holds no contact pseudonym key (%s), so the keys the gateways\n"
                   "  read cannot be known yet. A running gateway that noticed the loss restores its key\n"
                   "  within seconds: wait a moment and run this again. If no gateway runs on this Redis,\n"
                   "  start one first (it creates the key), then run this.\n",
                   ctx->where.c_str(), std::string(gateway::contact_secret_key).c_str());
      return 1;
    }
    auto p = dnc::contacts::contact_keys::pseudonymizer::create(**secret);
    if (!p) {
      std::fprintf(stderr, "stopgatectl contacts: the pseudonym key in Redis is unusable\n");
      return 1;
    }
    client = std::make_unique<redis::client>(io.get_executor(), ctx->options);
    client->start();
    dnc::contacts::contact_store_options so;
    so.cache.max_bytes = 0;  // writes only
    so.per_slot_changes = ctx->options.ep.type == redis::endpoint::kind::cluster;
    store = std::make_unique<dnc::contacts::contact_store>(*client, *p, so);
  }

  unsigned pending = 0;
  std::unordered_set<std::uint64_t> forgetting;  // numbers whose forget is in flight
  asio::steady_timer wake(io, asio::steady_timer::time_point::max());
  std::string write_failure;
  auto apply = [&](store_call c) -> asio::awaitable<void> {
    error_code ec;
    switch (c.type) {
      case kind::optout: {
        auto r = co_await store->async_record_optout(c.number, c.sender, c.at, c.source, c.evidence_id);
        if (!r) ec = r.error();
        else if (!*r) ++t.optouts_kept;
        break;
      }
      case kind::optin: {
        auto r = co_await store->async_record_optin(c.number, c.consent);
        if (!r) ec = r.error();
        break;
      }
      case kind::consent: {
        auto r = co_await store->async_record_consent(c.number, c.consent);
        if (!r) ec = r.error();
        break;
      }
      case kind::forget: {
        auto r = co_await store->async_forget(c.number, c.at);
        if (!r) ec = r.error();
        forgetting.erase(c.number.value());
        break;
      }
    }
    if (ec && write_failure.empty()) write_failure = "record " + c.evidence_id + ": " + ec.message();
    --pending;
    wake.cancel();
  };
  auto wait_below = [&](unsigned limit) -> asio::awaitable<void> {
    while (pending >= limit && pending > 0) {
      error_code ignored;
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  };
  auto job = [&]() -> asio::awaitable<void> {
    if (store) {
      if (auto ec = co_await client->async_wait_connected(std::chrono::seconds(5))) {
        failure = "cannot reach Redis at " + ctx->where + ": " + ec.message();
        co_return;
      }
      // Preloaded, so that no write meets NOSCRIPT and runs after writes issued later.
      if (auto ec = co_await store->async_load_scripts()) {
        failure = "cannot load the contact store's scripts: " + ec.message();
        co_return;
      }
    }
    while (!order.empty() && failure.empty() && write_failure.empty()) {
      const replay_record* top = order.top();
      order.pop();
      const std::size_t src = top->source;
      replay_record r = std::move(*heads[src]);
      heads[src].reset();
      advance(src);
      bar.update(bytes_read, total_bytes, t.replayed());
      if (!since_ts.empty() && r.ts < since_ts) {
        ++t.before_since;
        continue;
      }
      std::string why;
      auto call = read_call(r, cipher ? &*cipher : nullptr, t, why);
      if (!call) {
        ++t.unusable;
        std::fprintf(stderr, "stopgatectl contacts: skipped %s (%s): %s\n", str(r.rec, "id").c_str(),
                     str(r.rec, "type").c_str(), why.c_str());
        continue;
      }
      switch (call->type) {
        case kind::optout: ++t.optouts; break;
        case kind::optin: ++t.optins; break;
        case kind::consent: ++t.consents; break;
        case kind::forget: ++t.forgets; break;
      }
      if (!store) continue;
      // Writes are sent in record order on one connection, so Redis applies them in that
      // order. A forget takes two round trips (it reads the number's campaigns first), so a
      // later record of the same number waits until the forget is done.
      co_await wait_below(forgetting.count(call->number.value()) ? 1 : in_flight);
      if (call->type == kind::forget) forgetting.insert(call->number.value());
      ++pending;
      asio::co_spawn(io, apply(std::move(*call)), asio::detached);
    }
    co_await wait_below(1);
    if (store && failure.empty() && write_failure.empty()) {
      // Marks the store rebuilt: gateways that saw the data loss are ready again.
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      const std::string marker = evidence::format_ts(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now())) + " " + host + ":" +
                                 std::to_string(::getpid()) + " " + std::to_string(t.replayed()) + " records";
      auto r = co_await client->async_exec({"SET", dnc::contacts::rebuild_marker_key, marker});
      if (!r || r->is_error()) failure = "the rebuild marker could not be set";
    }
  };
  auto job_then_stop = [&]() -> asio::awaitable<void> {
    co_await job();
    if (client) client->stop();
  };
  auto fut = asio::co_spawn(io, job_then_stop(), asio::use_future);
  io.run();
  fut.get();
  bar.finish();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!write_failure.empty() && failure.empty()) failure = write_failure;
  if (!failure.empty()) {
    std::fprintf(stderr,
                 "stopgatectl contacts: rebuild stopped: %s\n"
                 "  %s records were replayed before it; running the command again is safe (a replay "
                 "is idempotent).\n",
                 failure.c_str(), group_digits(t.replayed()).c_str());
    rc = 1;
  }
  std::printf(
      "%s %s records from %zu evidence log%s%s: %s opt-outs (%s already as recent), %s opt-ins, %s "
      "consents, %s forgets; read %s records, %.1f MB in %.2f s (%s records/s, %s replayed/s)\n",
      dry_run ? "checked" : (rc ? "partly replayed" : "replayed"), group_digits(t.replayed()).c_str(),
      readers.size(), readers.size() == 1 ? "" : "s",
      ctx ? (" into " + ctx->where).c_str() : "", group_digits(t.optouts).c_str(),
      group_digits(t.optouts_kept).c_str(), group_digits(t.optins).c_str(), group_digits(t.consents).c_str(),
      group_digits(t.forgets).c_str(), group_digits(t.lines).c_str(), double(bytes_read) / 1e6, secs,
      group_digits(std::uint64_t(double(t.lines) / (secs > 0 ? secs : 1))).c_str(),
      group_digits(std::uint64_t(double(t.replayed()) / (secs > 0 ? secs : 1))).c_str());
  if (t.before_since) std::printf("%s records before --since were skipped\n", group_digits(t.before_since).c_str());
  if (t.unusable) {
    std::printf("%s records could not be replayed (listed above)\n", group_digits(t.unusable).c_str());
    rc = 1;
  }
  if (t.sealed)
    std::printf(
        "%s consent texts are sealed (evidence.encryption_key) and were not restored into the store; "
        "pass the key (--enc-key-env / --enc-key-file) to restore them (the consents themselves are)\n",
        group_digits(t.sealed).c_str());
  if (!dry_run && rc == 0) std::printf("marked the contact store rebuilt (%s)\n", std::string(dnc::contacts::rebuild_marker_key).c_str());
  return rc;
}

int run(const global_options& g, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "rebuild") return run_rebuild(g, std::vector<std::string>(args.begin() + 1, args.end()));
  std::fprintf(stderr, "stopgatectl contacts: unknown subcommand %s\n\n%s", args[0].c_str(), usage);
  return 2;
}

const command_registration reg({"contacts", "rebuild the contact store from the evidence log", &run});

}  // namespace
}  // namespace stopgate::ctl
