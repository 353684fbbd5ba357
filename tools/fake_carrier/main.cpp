// fake_carrier: the fake carrier as a program, for scripts and benchmarks.
//   fake_carrier --listen 127.0.0.1:0 --threads 2 --config creds.json
// Prints "fake_carrier listening on http://HOST:PORT" once bound; stops on SIGTERM/SIGINT.
#include "tools/fake_carrier/credentials.hpp"
#include "tools/fake_carrier/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;
namespace fc = stopgate::fake_carrier;

namespace {

std::string credentials_help() {
  const fc::credentials d;
  std::ostringstream out;
  out << "Endpoints (POST) and the credentials they expect (defaults shown; override with\n"
         "--config FILE, a JSON object whose sections and fields are named as below, e.g.\n"
         "{\"twilio\": {\"account_sid\": \"AC...\", \"auth_token\": \"...\"}}):\n\n"
      << "  twilio     /2010-04-01/Accounts/{account_sid}/Messages.json   Basic account_sid:auth_token\n"
      << "             account_sid=" << d.twilio.account_sid << " auth_token=" << d.twilio.auth_token << "\n"
      << "  telnyx     /v2/messages                                       Bearer api_key\n"
      << "             api_key=" << d.telnyx.api_key << "\n"
      << "  bandwidth  /api/v2/users/{account_id}/messages                Basic username:password\n"
      << "             (or Bearer token when token is set); body applicationId = application_id\n"
      << "             account_id=" << d.bandwidth.account_id << " application_id="
      << d.bandwidth.application_id << "\n             username=" << d.bandwidth.username
      << " password=" << d.bandwidth.password << " token=(none)\n"
      << "  vonage     /sms/json                                          api_key, api_secret in the body\n"
      << "             api_key=" << d.vonage.api_key << " api_secret=" << d.vonage.api_secret << "\n"
      << "  plivo      /v1/Account/{auth_id}/Message/                     Basic auth_id:auth_token\n"
      << "             auth_id=" << d.plivo.auth_id << " auth_token=" << d.plivo.auth_token << "\n"
      << "  sinch      /xms/v1/{service_plan_id}/batches                  Bearer api_token\n"
      << "             service_plan_id=" << d.sinch.service_plan_id << " api_token="
      << d.sinch.api_token << "\n"
      << "  http       " << d.http.path << " (\"path\")                      every header in \"headers\"\n";
  for (const auto& [k, v] : d.http.headers) out << "             " << k << ": " << v << "\n";
  out << "\nControl API: GET /_fake/requests[?carrier=NAME], GET /_fake/stats, GET|POST|DELETE\n"
         "/_fake/faults, POST /_fake/reset, GET /_fake/health. Faults are JSON such as\n"
         "{\"kind\": \"rate_limit\", \"carrier\": \"twilio\", \"count\": 2, \"retry_after\": \"3\"};\n"
         "kinds: latency rate_limit server_error timeout drop_before_body drop_after_body\n"
         "opted_out permanent. See docs/dev/FAKE_CARRIER.md.\n";
  return out.str();
}

bool parse_listen(const std::string& text, std::string& host, unsigned short& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, port);
  return ec == std::errc{} && p == last && first != last;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string config_path;
  fc::server_options opts;
  po::options_description desc("fake_carrier options");
  desc.add_options()("help,h", "this text")(
      "listen", po::value(&listen)->default_value(listen), "HOST:PORT to bind (PORT 0: a free port)")(
      "threads", po::value(&opts.threads)->default_value(1), "io threads")(
      "config", po::value(&config_path), "JSON file with the expected credentials")(
      "max-records", po::value(&opts.max_records)->default_value(opts.max_records),
      "recorded requests kept (oldest dropped; 0 = none)")(
      "seed", po::value(&opts.seed)->default_value(0), "seed for fractional faults (0 = random)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "fake_carrier: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "fake_carrier: a fake SMS carrier speaking stopgate's carrier send APIs.\n\n"
              << desc << "\n" << credentials_help();
    return 0;
  }
  if (!parse_listen(listen, opts.address, opts.port)) {
    std::cerr << "fake_carrier: --listen must be HOST:PORT\n";
    return 2;
  }
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      std::cerr << "fake_carrier: cannot read " << config_path << "\n";
      return 2;
    }
    std::string detail;
    auto creds = fc::parse_credentials(text.str(), detail);
    if (!creds) {
      std::cerr << "fake_carrier: " << config_path << ": " << creds.error().message() << ": "
                << detail << "\n";
      return 2;
    }
    opts.creds = std::move(*creds);
  }

  // Installed before the server starts, so an early SIGTERM is not lost to the default action.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGTERM, SIGINT);
  auto started = fc::server::start(std::move(opts));
  if (!started) {
    std::cerr << "fake_carrier: cannot listen on " << listen << ": "
              << started.error().message() << "\n";
    return 1;
  }
  auto& fake = *started;
  std::cout << "fake_carrier listening on " << fake->base_url() << std::endl;
  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_io.run();
  fake->stop();
  std::cout << "fake_carrier stopped" << std::endl;
  return 0;
}
