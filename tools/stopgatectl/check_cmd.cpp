// stopgatectl check | lookup: through the running gateway's socket API (SPEC section 7).
#include "tools/stopgatectl/api_client.hpp"
#include "tools/stopgatectl/command.hpp"
#include "tools/stopgatectl/context.hpp"

#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>

namespace stopgate::ctl {
namespace {

namespace json = boost::json;
namespace po = boost::program_options;

std::string str_of(const json::value* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

std::string join_reasons(const json::value* v) {
  if (!v || !v->is_array()) return "";
  std::string out;
  for (auto& r : v->get_array()) {
    if (!out.empty()) out += ",";
    out += str_of(&r);
  }
  return out.empty() ? "-" : out;
}

// Prints an error response; returns the exit code (1).
int print_error(const json::object& resp) {
  const auto* e = resp.if_contains("error");
  std::string code = e && e->is_object() ? str_of(e->get_object().if_contains("code")) : "?";
  std::string msg = e && e->is_object() ? str_of(e->get_object().if_contains("message")) : "";
  std::fprintf(stderr, "stopgatectl: the gateway answered %s: %s\n", code.c_str(), msg.c_str());
  if (code == "unauthenticated")
    std::fprintf(
        stderr,
        "stopgatectl: the gateway requires an API key: pass --key KEY or set STOPGATE_API_KEY "
        "(stopgatectl keys new makes one)\n");
  return 1;
}

bool ok(const json::object& r) {
  auto* v = r.if_contains("ok");
  return v && v->is_bool() && v->get_bool();
}

int run_check(const global_options& g, const std::vector<std::string>& args) {
  std::vector<std::string> numbers;
  std::string sender, purpose, channel, tech, campaign, at, key;
  bool as_json = false, commit = false;
  po::options_description desc("stopgatectl check NUMBER... [options]");
  desc.add_options()("help,h", "this text")("sender", po::value(&sender), "sender name")(
      "purpose", po::value(&purpose), "marketing | informational")(
      "channel", po::value(&channel), "sms | voice")("tech", po::value(&tech),
                                                     "voice: manual | atds | prerecorded")(
      "campaign", po::value(&campaign), "campaign (frequency caps)")(
      "at", po::value(&at), "evaluate at this RFC 3339 time (default now)")(
      "commit", po::bool_switch(&commit),
      "count the contact and write the decision to the evidence log")(
      "json", po::bool_switch(&as_json), "print the gateway's JSON response")(
      "key", po::value(&key), "API key (default: $STOPGATE_API_KEY)")("number", po::value(&numbers),
                                                                      "numbers");
  po::positional_options_description pos;
  pos.add("number", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stopgatectl check: %s\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nAsks the running gateway whether each number may be contacted now.\n";
    return 0;
  }
  if (numbers.empty()) {
    std::fprintf(stderr, "stopgatectl check: give at least one NUMBER (see --help)\n");
    return 2;
  }
  auto settings = load_settings(g, no_secrets);
  if (!settings) return 1;
  std::string why;
  auto client = api_client::connect(*settings, key, &why);
  if (!client) {
    std::fprintf(stderr, "stopgatectl: %s\n", why.c_str());
    return 1;
  }
  json::object req{{"op", "check"}};
  if (numbers.size() == 1) {
    req["to"] = numbers[0];
  } else {
    json::array a;
    for (auto& n : numbers) a.emplace_back(n);
    req["to"] = std::move(a);
  }
  if (!sender.empty()) req["sender"] = sender;
  if (!purpose.empty()) req["purpose"] = purpose;
  if (!channel.empty()) req["channel"] = channel;
  if (!tech.empty()) req["tech"] = tech;
  if (!campaign.empty()) req["campaign"] = campaign;
  if (!at.empty()) req["at"] = at;
  if (commit) req["commit"] = true;
  auto resp = client->call(std::move(req), &why);
  if (!resp) {
    std::fprintf(stderr, "stopgatectl: %s\n", why.c_str());
    return 1;
  }
  if (as_json) {
    std::printf("%s\n", json::serialize(*resp).c_str());
    return ok(*resp) ? 0 : 1;
  }
  if (!ok(*resp)) return print_error(*resp);
  std::vector<const json::object*> rows;
  if (auto* r = resp->if_contains("result"); r && r->is_object()) rows.push_back(&r->get_object());
  if (auto* rs = resp->if_contains("results"); rs && rs->is_array())
    for (auto& r : rs->get_array())
      if (r.is_object()) rows.push_back(&r.get_object());
  std::printf("%-16s %-8s %-22s %s\n", "NUMBER", "DECISION", "RETRY AT", "REASONS");
  for (auto* r : rows) {
    std::string retry = str_of(r->if_contains("retry_at"));
    // A number the gateway could not read carries why (e.g. 555-01xx is fictional).
    std::string reasons = join_reasons(r->if_contains("reasons"));
    if (std::string why = str_of(r->if_contains("message")); !why.empty())
      reasons += " (" + why + ")";
    std::printf("%-16s %-8s %-22s %s\n", str_of(r->if_contains("to")).c_str(),
                str_of(r->if_contains("decision")).c_str(), retry.empty() ? "-" : retry.c_str(),
                reasons.c_str());
  }
  return 0;
}

int run_lookup(const global_options& g, const std::vector<std::string>& args) {
  std::string number, key;
  bool as_json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      as_json = true;
    } else if (args[i] == "--key" && i + 1 < args.size()) {
      key = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::printf(
          "usage: stopgatectl lookup NUMBER [--json] [--key KEY]\n\n"
          "Everything the gateway holds about a number: lists, opt-outs, consents,\n"
          "counters, time zones, region and evidence ids.\n");
      return 0;
    } else if (number.empty() && !args[i].empty() && args[i][0] != '-') {
      number = args[i];
    } else {
      std::fprintf(stderr, "stopgatectl lookup: unexpected argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  if (number.empty()) {
    std::fprintf(stderr, "stopgatectl lookup: give a NUMBER\n");
    return 2;
  }
  auto settings = load_settings(g, no_secrets);
  if (!settings) return 1;
  std::string why;
  auto client = api_client::connect(*settings, key, &why);
  if (!client) {
    std::fprintf(stderr, "stopgatectl: %s\n", why.c_str());
    return 1;
  }
  auto resp = client->call(json::object{{"op", "lookup"}, {"to", number}}, &why);
  if (!resp) {
    std::fprintf(stderr, "stopgatectl: %s\n", why.c_str());
    return 1;
  }
  if (as_json) {
    std::printf("%s\n", json::serialize(*resp).c_str());
    return ok(*resp) ? 0 : 1;
  }
  if (!ok(*resp)) return print_error(*resp);
  const auto& r = *resp;
  std::printf("number      %s\n", str_of(r.if_contains("to")).c_str());
  std::printf("region      %s %s\n", str_of(r.if_contains("region")).c_str(),
              str_of(r.if_contains("country")).c_str());
  std::string zones;
  if (auto* z = r.if_contains("time_zones"); z && z->is_array())
    for (auto& v : z->get_array()) zones += (zones.empty() ? "" : ", ") + str_of(&v);
  std::printf("time zones  %s\n", zones.empty() ? "-" : zones.c_str());
  std::printf("\nlists\n");
  if (auto* ls = r.if_contains("lists"); ls && ls->is_array())
    for (auto& v : ls->get_array()) {
      const auto& l = v.get_object();
      const auto* listed = l.if_contains("listed");
      if (!listed || !listed->is_bool()) {  // the list has no generation in Redis yet
        std::printf("  %-14s not loaded\n", str_of(l.if_contains("name")).c_str());
        continue;
      }
      std::printf("  %-14s %-8s generation %s, snapshot %s\n",
                  str_of(l.if_contains("name")).c_str(), listed->get_bool() ? "LISTED" : "no",
                  str_of(l.if_contains("generation")).c_str(),
                  str_of(l.if_contains("snapshot")).c_str());
    }
  std::printf("\nopt-outs\n");
  if (auto* os = r.if_contains("optouts"); os && os->is_array()) {
    if (os->get_array().empty()) std::printf("  none\n");
    for (auto& v : os->get_array()) {
      const auto& o = v.get_object();
      std::printf("  %-14s %s  %s  (%s)\n", str_of(o.if_contains("sender")).c_str(),
                  str_of(o.if_contains("at")).c_str(), str_of(o.if_contains("source")).c_str(),
                  str_of(o.if_contains("evidence_id")).c_str());
    }
  }
  std::printf("\nconsents\n");
  if (auto* cs = r.if_contains("consents"); cs && cs->is_array()) {
    if (cs->get_array().empty()) std::printf("  none\n");
    for (auto& v : cs->get_array()) {
      const auto& c = v.get_object();
      std::printf("  %-14s %-16s captured %s  expires %s  %s (%s)\n",
                  str_of(c.if_contains("sender")).c_str(), str_of(c.if_contains("kind")).c_str(),
                  str_of(c.if_contains("captured_at")).c_str(),
                  c.contains("expires_at") ? str_of(c.if_contains("expires_at")).c_str() : "never",
                  str_of(c.if_contains("consent_id")).c_str(),
                  str_of(c.if_contains("evidence_id")).c_str());
    }
  }
  std::printf("\ncounters\n");
  if (auto* cs = r.if_contains("counters"); cs && cs->is_array()) {
    if (cs->get_array().empty()) std::printf("  none\n");
    for (auto& v : cs->get_array()) {
      const auto& c = v.get_object();
      const auto* t = c.if_contains("contacts");
      std::printf("  %-14s %zu contact(s)\n", str_of(c.if_contains("campaign")).c_str(),
                  t && t->is_array() ? t->get_array().size() : std::size_t(0));
    }
  }
  std::string ev;
  if (auto* e = r.if_contains("evidence_ids"); e && e->is_array())
    for (auto& v : e->get_array()) ev += (ev.empty() ? "" : " ") + str_of(&v);
  std::printf("\nevidence    %s\n", ev.empty() ? "-" : ev.c_str());
  return 0;
}

const command_registration check_reg({"check",
                                      "may these numbers be contacted now? (through the gateway)",
                                      &run_check});
const command_registration lookup_reg({"lookup",
                                       "everything held about a number (through the gateway)",
                                       &run_lookup});

}  // namespace
}  // namespace stopgate::ctl
