// stopgatectl dnc load | apply | status (SPEC section 7).
#include "dnc/lists/file.hpp"
#include "dnc/lists/keys.hpp"
#include "dnc/lists/loader.hpp"
#include "dnc/lists/store.hpp"
#include "tools/stopgatectl/command.hpp"
#include "tools/stopgatectl/context.hpp"
#include "tools/stopgatectl/progress.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace stopgate::ctl {
namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;

constexpr const char* dnc_usage =
    "usage:\n"
    "  stopgatectl dnc load  --list NAME --format ftc|csv|lines [options] FILE...\n"
    "  stopgatectl dnc apply --list NAME --format ftc-changes [options] FILE...\n"
    "  stopgatectl dnc status [--json]\n"
    "\n"
    "load replaces the whole list atomically (checks see the old or the new generation,\n"
    "never a mix); apply adds and deletes the numbers of change lists on the current\n"
    "generation. Files may be plain or gzip. If bad lines exceed --max-bad percent of the\n"
    "lines read, nothing changes and the first 20 bad lines are shown.\n";

int print_usage_error(const std::string& msg, const po::options_description& desc) {
  std::fprintf(stderr, "stopgatectl dnc: %s\n\n%s\n", msg.c_str(), dnc_usage);
  std::cerr << desc << "\n";
  return 2;
}

std::string today_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[std::size_t(i)] < '0' || s[std::size_t(i)] > '9') return false;
  const int m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

void print_bad_lines(const dnc::lists::load_report& r) {
  for (auto& [file, b] : r.first_bad)
    std::fprintf(stderr, "  %s:%llu: %s: %s\n", file.c_str(),
                 static_cast<unsigned long long>(b.line_no), b.reason.c_str(), b.text.c_str());
  if (r.bad > r.first_bad.size())
    std::fprintf(stderr, "  ... and %s more\n", group_digits(r.bad - r.first_bad.size()).c_str());
}

int run_load_or_apply(const global_options& g, const std::vector<std::string>& args, bool apply) {
  std::string list, format, snapshot, csv_column = "phone", delimiter = ",";
  double max_bad = 0.1;
  bool force = false;
  int number_col = 0, local_col = -1, date_col = 1, flag_col = 2;
  std::vector<std::string> files;
  po::options_description desc(apply ? "dnc apply options" : "dnc load options");
  desc.add_options()("help,h", "this text")("list", po::value(&list),
                                            "list name (federal, state:TX, internal, ...)")(
      "format", po::value(&format), apply ? "ftc-changes" : "ftc | csv | lines")(
      "max-bad", po::value(&max_bad)->default_value(0.1, "0.1"),
      "refuse the load above this percentage of bad lines")(
      "force", po::bool_switch(&force),
      "load into a list the configuration does not name ([lists.NAME])")(
      "snapshot", po::value(&snapshot), "date of the data, YYYY-MM-DD (default: today, UTC)")(
      "csv-column", po::value(&csv_column)->default_value("phone"),
      "csv: header of the phone column")("delimiter", po::value(&delimiter)->default_value(","),
                                         "ftc-changes: field delimiter")(
      "number-column", po::value(&number_col)->default_value(0),
      "ftc-changes: 0-based column of the number (or NPA)")(
      "local-column", po::value(&local_col)->default_value(-1),
      "ftc-changes: column of the 7-digit local part when split")(
      "date-column", po::value(&date_col)->default_value(1),
      "ftc-changes: column of the date (-1: none)")(
      "flag-column", po::value(&flag_col)->default_value(2), "ftc-changes: column of the A/D flag")(
      "file", po::value(&files), "input files");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return print_usage_error(e.what(), desc);
  }
  if (vm.count("help")) {
    std::printf("%s\n", dnc_usage);
    std::cout << desc << "\n";
    return 0;
  }
  if (list.empty()) return print_usage_error("--list is required", desc);
  if (!dnc::lists::list_keys::valid_list_name(list))
    return print_usage_error("--list: use letters, digits, ':', '_' and '-' (1-64 characters)",
                             desc);
  if (format.empty()) return print_usage_error("--format is required", desc);
  auto fmt = dnc::lists::parse_file_format(format);
  if (!fmt) return print_usage_error("--format: unknown format '" + format + "'", desc);
  if (apply != (*fmt == dnc::lists::file_format::ftc_changes))
    return print_usage_error(
        apply ? "dnc apply takes --format ftc-changes (use dnc load for full lists)"
              : "dnc load takes ftc, csv or lines (use dnc apply for ftc-changes)",
        desc);
  if (files.empty()) return print_usage_error("no input FILE given", desc);
  if (!(max_bad >= 0 && max_bad <= 100)) return print_usage_error("--max-bad must be 0..100", desc);
  if (snapshot.empty()) snapshot = today_utc();
  if (!valid_date(snapshot)) return print_usage_error("--snapshot must be YYYY-MM-DD", desc);
  if (delimiter.size() != 1) return print_usage_error("--delimiter must be one character", desc);
  for (auto& f : files)
    if (!std::filesystem::exists(f)) {
      std::fprintf(stderr, "stopgatectl dnc: %s: no such file\n", f.c_str());
      return 1;
    }

  dnc::lists::reader_options ro;
  ro.format = *fmt;
  ro.phone_column = csv_column;
  ro.delimiter = delimiter[0];
  ro.number_column = number_col;
  ro.local_column = local_col;
  ro.date_column = date_col;
  ro.flag_column = flag_col;

  // A list the gateway is not configured with is never checked: loading it is almost always
  // a typo or the wrong config, so it takes --force.
  auto settings = load_settings(g, redis_secrets_only);
  if (!settings) return 1;
  if (!force && std::none_of(settings->lists.begin(), settings->lists.end(),
                             [&](const config::list_settings& l) { return l.name == list; })) {
    std::string names;
    for (const auto& l : settings->lists) names += (names.empty() ? "" : ", ") + l.name;
    std::fprintf(stderr,
                 "stopgatectl dnc: list '%s' is not configured in %s (configured: %s); the gateway "
                 "would never check it. Add [lists.\"%s\"] to the config, or pass --force.\n",
                 list.c_str(),
                 g.config_file.empty() ? "the embedded defaults" : g.config_file.c_str(),
                 names.empty() ? "none" : names.c_str(), list.c_str());
    return 2;
  }

  // Connect first: no point reading gigabytes for a Redis that is not there.
  auto ctx = open_redis(g, std::chrono::seconds(60));
  if (!ctx) return 1;
  asio::io_context io;
  redis::client client(io.get_executor(), ctx->options);
  client.start();
  dnc::lists::list_store store(client);

  const auto t0 = std::chrono::steady_clock::now();
  int rc = 0;
  auto job = [&]() -> asio::awaitable<void> {
    if (auto ec = co_await client.async_wait_connected(std::chrono::seconds(5))) {
      std::fprintf(stderr, "stopgatectl dnc: cannot reach Redis at %s: %s\n",
                   ctx->options.ep.to_string().c_str(), ec.message().c_str());
      rc = 1;
      co_return;
    }
    dnc::lists::load_request req;
    req.list = list;
    req.files = files;
    req.reader = ro;
    req.apply = apply;
    req.max_bad_percent = max_bad;
    req.snapshot = snapshot;
    progress_bar bar(apply ? "applying " + list : "loading " + list);
    auto [ec, rep] = co_await dnc::lists::async_load(
        store, req, [&](std::uint64_t done, std::uint64_t total, std::uint64_t n) {
          bar.update(done, total, n);
        });
    bar.finish();
    if (rep.bad > 0) {
      std::fprintf(stderr, "%s bad line%s:\n", group_digits(rep.bad).c_str(),
                   rep.bad == 1 ? "" : "s");
      print_bad_lines(rep);
    }
    if (ec) {
      rc = 1;
      if (ec == dnc::lists::load_errc::too_many_bad_lines)
        std::fprintf(stderr,
                     "stopgatectl dnc: refused: %.3f%% of lines are bad (--max-bad %.3f%%); list "
                     "%s is unchanged\n",
                     rep.bad_percent(), max_bad, list.c_str());
      else if (ec == dnc::lists::load_errc::file_error)
        std::fprintf(stderr, "stopgatectl dnc: %s; list %s is unchanged\n", rep.file_error.c_str(),
                     list.c_str());
      else if (ec == dnc::lists::list_errc::no_such_list)
        std::fprintf(stderr,
                     "stopgatectl dnc apply: list %s has no current generation (load it first)\n",
                     list.c_str());
      else
        std::fprintf(stderr, "stopgatectl dnc: list %s unchanged: %s\n", list.c_str(),
                     ec.message().c_str());
      co_return;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "%s %s into %s: generation %llu, %s numbers (%llu area codes as bitmaps, %s sparse); read "
        "%s "
        "numbers, %s bad line%s; %.2f s, %s numbers/s\n",
        apply ? "applied" : "loaded", list.c_str(), ctx->where.c_str(),
        static_cast<unsigned long long>(rep.published.generation),
        group_digits(rep.published.count).c_str(), static_cast<unsigned long long>(rep.npa_bitmaps),
        group_digits(rep.sparse_members).c_str(), group_digits(rep.numbers).c_str(),
        group_digits(rep.bad).c_str(), rep.bad == 1 ? "" : "s", secs,
        group_digits(std::uint64_t(std::llround(double(rep.numbers) / (secs > 0 ? secs : 1))))
            .c_str());
  };
  // The client reconnects forever unless stopped: stop it when the job is done. (A named
  // lambda: a coroutine must not outlive the closure whose captures it uses.)
  auto job_then_stop = [&]() -> asio::awaitable<void> {
    co_await job();
    client.stop();
  };
  auto fut = asio::co_spawn(io, job_then_stop(), asio::use_future);
  io.run();
  fut.get();
  return rc;
}

std::string age_of(const std::string& snapshot) {
  if (!valid_date(snapshot)) return "?";
  std::tm tm{};
  tm.tm_year = std::stoi(snapshot.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(snapshot.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(snapshot.substr(8, 2));
  const std::time_t then = ::timegm(&tm);
  const long days = long((std::time(nullptr) - then) / 86400);
  return std::to_string(days) + " d";
}

int run_status(const global_options& g, const std::vector<std::string>& args) {
  bool json = false;
  for (auto& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: stopgatectl dnc status [--json]\n\nEvery list: generation, count, snapshot date, "
          "age, Redis memory.\n");
      return 0;
    } else {
      std::fprintf(stderr, "stopgatectl dnc status: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  auto ctx = open_redis(g, std::chrono::seconds(10));
  if (!ctx) return 1;
  asio::io_context io;
  redis::client client(io.get_executor(), ctx->options);
  client.start();
  dnc::lists::list_store store(client);
  int rc = 0;
  auto job = [&]() -> asio::awaitable<void> {
    if (auto ec = co_await client.async_wait_connected(std::chrono::seconds(5))) {
      std::fprintf(stderr, "stopgatectl dnc: cannot reach Redis at %s: %s\n",
                   ctx->options.ep.to_string().c_str(), ec.message().c_str());
      rc = 1;
      co_return;
    }
    auto st = co_await store.async_status();
    if (!st) {
      std::fprintf(stderr, "stopgatectl dnc status: %s\n", st.error().message().c_str());
      rc = 1;
      co_return;
    }
    if (json) {
      // One JSON object per line; names and file names are escaped by the serializer.
      for (auto& s : *st) {
        const boost::json::object line{{"list", s.meta.name},
                                       {"generation", s.meta.generation},
                                       {"count", s.meta.count},
                                       {"snapshot", s.meta.snapshot},
                                       {"loaded_at", static_cast<std::int64_t>(s.meta.loaded_at)},
                                       {"area_code_bitmaps", s.npa_bitmaps},
                                       {"sparse_members", s.sparse_members},
                                       {"redis_bytes", s.redis_bytes},
                                       {"source", s.meta.source}};
        std::printf("%s\n", boost::json::serialize(line).c_str());
      }
      co_return;
    }
    std::printf("lists in %s\n", ctx->where.c_str());
    if (st->empty()) {
      std::printf("no lists loaded\n");
      co_return;
    }
    std::printf("%-16s %10s %14s %10s %6s %10s %10s\n", "LIST", "GENERATION", "NUMBERS", "SNAPSHOT",
                "AGE", "BITMAPS", "MEMORY");
    for (auto& s : *st)
      std::printf("%-16s %10llu %14s %10s %6s %10llu %8.1f MB\n", s.meta.name.c_str(),
                  static_cast<unsigned long long>(s.meta.generation),
                  group_digits(s.meta.count).c_str(), s.meta.snapshot.c_str(),
                  age_of(s.meta.snapshot).c_str(), static_cast<unsigned long long>(s.npa_bitmaps),
                  double(s.redis_bytes) / 1e6);
  };
  // The client reconnects forever unless stopped: stop it when the job is done. (A named
  // lambda: a coroutine must not outlive the closure whose captures it uses.)
  auto job_then_stop = [&]() -> asio::awaitable<void> {
    co_await job();
    client.stop();
  };
  auto fut = asio::co_spawn(io, job_then_stop(), asio::use_future);
  io.run();
  fut.get();
  return rc;
}

int run_dnc(const global_options& g, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf("%s", dnc_usage);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "load") return run_load_or_apply(g, rest, false);
  if (args[0] == "apply") return run_load_or_apply(g, rest, true);
  if (args[0] == "status") return run_status(g, rest);
  std::fprintf(stderr, "stopgatectl dnc: unknown subcommand '%s'\n\n%s", args[0].c_str(),
               dnc_usage);
  return 2;
}

const command_registration reg({"dnc", "load, apply and inspect DNC lists (load | apply | status)",
                                &run_dnc});

}  // namespace
}  // namespace stopgate::ctl
