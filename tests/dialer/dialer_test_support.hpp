// The stopgate daemon with its dialer servers on, against a real redis-server, and the real
// programs that talk to it: SIPp (dialer and carrier), Kamailio (the proxy in front), and a
// FastAGI client that replays Asterisk's res_agi exchange byte for byte.
#pragma once

#include "tests/support/line_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::test::dialer {

namespace asio = boost::asio;
namespace json = boost::json;

// Numbers whose decisions do not depend on the hour (calling windows are off in the test
// configuration): allowed, opted out, and a Florida number under a 1-per-day frequency cap.
inline const std::string allowed_number = "+12125552671";
inline const std::string optout_number = "+13125552671";
inline const std::string capped_number = "+13055552671";

/// The path of a program installed by tools/deps; fails the test when it is missing.
inline std::string installed(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/"}) {
    std::filesystem::path p = std::string(dir) + name;
    if (std::filesystem::exists(p)) return p.string();
  }
  ADD_FAILURE() << name << " is not installed (tools/deps installs sip-tester and kamailio)";
  return name;
}

inline std::string sipp_dir() {
  return std::string(STOPGATE_SOURCE_DIR) + "/tests/dialer/sipp/";
}

/// One HTTP/1.1 GET with Connection: close; returns the whole raw response ("" if no connection).
inline std::string http_get(int port, const std::string& target, const std::string& headers = "") {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + "\r\n";
  asio::write(s, asio::buffer(req), ec);
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

inline std::string http_body(const std::string& raw) {
  auto at = raw.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : raw.substr(at + 4);
}

/// The stopgate daemon with FastAGI and the SIP gate listening on loopback.
struct gateway {
  int api_port = free_port();
  int http_port = free_port();
  int agi_port = free_port();
  int sip_port = free_port();
  int carrier_port = free_port();  // the SIP "trunk" allowed calls are redirected to
  const temp_dir& dir;
  std::filesystem::path config;
  std::unique_ptr<process> proc;

  gateway(const temp_dir& d, const redis_server& r, const std::string& extra = "",
          const std::string& redis_tuning =
              "timeout_ms = 300\nreconnect_min_ms = 20\nreconnect_max_ms = 200\n")
      : dir(d) {
    const std::string text =
        "[server]\ndata_dir = \"" + d.path().string() +
        "/gw\"\ninstance = \"gwD\"\nthreads = 2\n"
        "shutdown_grace_ms = 2000\n"
        "[api]\nlisten = \"127.0.0.1:" +
        std::to_string(api_port) +
        "\"\n"
        "[http]\nlisten = \"127.0.0.1:" +
        std::to_string(http_port) +
        "\"\n"
        "[redis]\nurl = \"" +
        r.tcp_url() + "\"\n" + redis_tuning +
        "[evidence]\nhmac_key = \"file:evidence.key\"\n"
        "[carriers.sandbox]\ntype = \"sandbox\"\n"
        "[senders.acme]\nnumbers = [\"+14155552000\"]\nroute = [\"sandbox\"]\n"
        "[lists.internal]\nkind = \"internal\"\n"
        "[policy.marketing]\napply_calling_window = false\napply_restricted_days = false\n"
        "[[policy.frequency_caps]]\nstates = [\"FL\"]\nmax = 1\nwindow_hours = 24\n"
        "[dialer.fastagi]\nlisten = \"127.0.0.1:" +
        std::to_string(agi_port) +
        "\"\nread_timeout_ms = 2000\n"
        "[dialer.sip]\nlisten = \"127.0.0.1:" +
        std::to_string(sip_port) +
        "\"\n"
        "sender_header = \"X-Stopgate-Sender\"\ncampaign_header = \"X-Stopgate-Campaign\"\n"
        "[dialer.sip.senders.acme]\nsources = [\"127.0.0.1/32\"]\ntrunk = \"sip:127.0.0.1:" +
        std::to_string(carrier_port) + "\"\ntech = \"manual\"\n" + extra;
    config = d.write("gw.toml", text);
    proc = std::make_unique<process>(
        std::vector<std::string>{built_program("gateway/stopgate"), "--config", config.string()},
        d.path() / "gw.log");
    // HTTP starts last: once /healthz answers, the dialer servers listen too.
    for (int i = 0; i < 300; ++i) {
      if (http_get(http_port, "/healthz").find(" 200 ") != std::string::npos) return;
      if (!proc->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the gateway did not start:\n" << proc->output();
  }

  json::object call(const std::string& request_json) {
    line_client c(api_port);
    return c.call(json::parse(request_json).as_object());
  }

  /// Opts `number` out of sender acme, and uses up `number`'s one call a day for `campaign`.
  void optout(const std::string& number) {
    auto r = call(R"({"op":"optout","to":")" + number +
                  R"(","sender":"acme","source":{"channel":"phone"}})");
    ASSERT_EQ(r["ok"], true) << json::serialize(r);
  }
  void use_cap(const std::string& number, const std::string& campaign) {
    auto r = call(R"({"op":"check","to":")" + number +
                  R"(","sender":"acme","channel":"voice","tech":"manual",)"
                  R"("campaign":")" +
                  campaign + R"(","commit":true})");
    ASSERT_EQ(r["ok"], true) << json::serialize(r);
    ASSERT_EQ(r["result"].at("decision"), "allow") << json::serialize(r);
  }

  /// Every evidence record (all segments) whose text contains `needle`, parsed.
  std::vector<json::object> evidence_with(const std::string& needle) const {
    std::vector<json::object> out;
    const auto ev = dir.path() / "gw" / "evidence";
    if (!std::filesystem::exists(ev)) return out;
    for (const auto& f : std::filesystem::directory_iterator(ev)) {
      if (f.path().extension() != ".jsonl") continue;
      std::ifstream in(f.path());
      std::string line;
      while (std::getline(in, line))
        if (line.find(needle) != std::string::npos) out.push_back(json::parse(line).as_object());
    }
    return out;
  }
};

/// Runs SIPp to completion: `scenario` is a file under tests/dialer/sipp/ (or "uas" for the
/// built-in one). Returns (exit code, output and error log).
inline std::pair<int, std::string> run_sipp(const temp_dir& d, const std::string& scenario,
                                            const std::string& target, int local_port,
                                            const std::vector<std::string>& extra = {}) {
  static int runs = 0;
  const std::string errors =
      (d.path() / ("sipp_" + std::to_string(++runs) + "_errors.log")).string();
  std::vector<std::string> argv = {installed("sipp"),
                                   "-sf",
                                   sipp_dir() + scenario,
                                   target,
                                   "-i",
                                   "127.0.0.1",
                                   "-p",
                                   std::to_string(local_port),
                                   "-m",
                                   "1",
                                   "-nostdin",
                                   "-timeout",
                                   "20s",
                                   "-timeout_error",
                                   "-trace_err",
                                   "-error_file",
                                   errors};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto [code, output] = run_program(argv, std::chrono::seconds(30));
  std::ifstream in(errors);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {code,
          output.substr(output.size() > 4000 ? output.size() - 4000 : 0) + "\n--- errors:\n" + err};
}

/// A SIPp UAS playing the carrier for one call, in the background.
inline std::unique_ptr<process> start_carrier(const temp_dir& d, int port) {
  return std::make_unique<process>(
      std::vector<std::string>{installed("sipp"), "-sf", sipp_dir() + "carrier_uas.xml", "-i",
                               "127.0.0.1", "-p", std::to_string(port), "-m", "1", "-nostdin",
                               "-timeout", "25s", "-timeout_error"},
      d.path() / ("carrier_" + std::to_string(port) + ".log"));
}

/// A blocking FastAGI client speaking as Asterisk's res_agi does.
class agi_client {
 public:
  explicit agi_client(int port) {
    boost::system::error_code ec;
    sock_.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  }
  bool connected() const { return sock_.is_open(); }

  /// The agi_* block for AGI(agi://127.0.0.1:PORT/SCRIPT,ARGS...) on channel `uniqueid`.
  static std::string environment(const std::string& script, const std::vector<std::string>& args,
                                 const std::string& uniqueid) {
    std::string s =
        "agi_network: yes\nagi_network_script: " + script + "\nagi_request: agi://127.0.0.1/" +
        script +
        "\nagi_channel: PJSIP/trunk-00000001\nagi_language: en\nagi_type: PJSIP\nagi_uniqueid: " +
        uniqueid +
        "\nagi_version: 20.5.0\nagi_callerid: 4155552000\nagi_calleridname: Acme\nagi_callingpres: "
        "0\n"
        "agi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\nagi_dnid: unknown\nagi_rdnis: "
        "unknown\n"
        "agi_context: outbound\nagi_extension: 12125552671\nagi_priority: 2\nagi_enhanced: 0.0\n"
        "agi_accountcode: \nagi_threadid: 140038196410112\n";
    for (std::size_t i = 0; i < args.size(); ++i)
      s += "agi_arg_" + std::to_string(i + 1) + ": " + args[i] + "\n";
    return s + "\n";
  }

  void send(const std::string& text) {
    boost::system::error_code ec;
    asio::write(sock_, asio::buffer(text), ec);
  }
  /// The next line without "\n", or nullopt when the server closed the connection.
  std::optional<std::string> read_line() {
    boost::system::error_code ec;
    auto n = asio::read_until(sock_, buf_, '\n', ec);
    if (ec && n == 0) return std::nullopt;
    std::string line(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
    buf_.consume(n);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

  /// Answers every SET VARIABLE with "200 result=1" until the server closes; the variables set.
  std::map<std::string, std::string> run_commands(int hangup_after = -1) {
    std::map<std::string, std::string> vars;
    int n = 0;
    while (auto line = read_line()) {
      const std::string prefix = "SET VARIABLE ";
      if (line->rfind(prefix, 0) != 0) {
        vars["<unexpected>"] = *line;
        break;
      }
      auto sp = line->find(' ', prefix.size());
      std::string value = line->substr(sp + 1);
      if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
      vars[line->substr(prefix.size(), sp - prefix.size())] = value;
      if (++n == hangup_after) send("HANGUP\n");
      send("200 result=1\n");
    }
    return vars;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket sock_{io_};
  asio::streambuf buf_;
};

}  // namespace stopgate::test::dialer
