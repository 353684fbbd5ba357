// stopgatectl api: the socket API's reference, generated from the gateway's own op table
// (gateway/api/op_table.cpp): the ops, each op's JSON Schema, and docs/API.md with
// docs/api/*.json written or compared.
#include "gateway/api/dispatcher.hpp"
#include "gateway/api/reference.hpp"
#include "tools/stopgatectl/command.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace stopgate::ctl {
namespace {

namespace api = gateway::api;

void usage(FILE* f) {
  std::fprintf(f,
               "usage: stopgatectl api ops\n"
               "       stopgatectl api schema OP [--answer]\n"
               "       stopgatectl api reference [--out DIR] [--check]\n"
               "\n"
               "  ops        lists every op with the role it needs and its fields\n"
               "  schema     prints the JSON Schema (2020-12) of OP's request, or of its answer\n"
               "  reference  writes API.md, api/OP.request.schema.json, api/OP.answer.schema.json\n"
               "             and api/openapi.json under DIR (default: docs); with --check, writes\n"
               "             nothing and exits 1 when a file there differs from what this\n"
               "             version generates\n");
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int list_ops() {
  for (const auto& op : api::op_table()) {
    std::string fields;
    for (const auto& f : op.fields) fields += (fields.empty() ? "" : " ") + std::string(f.name) + (f.required ? "*" : "");
    std::printf("%-8s role %-8s %s\n", std::string(op.name).c_str(),
                op.role ? std::string(api::to_string(*op.role)).c_str() : "none",
                fields.empty() ? "(no fields)" : fields.c_str());
  }
  std::printf("(* required; members named x_... are the caller's own and ignored; docs/API.md)\n");
  return 0;
}

int schema(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    usage(stderr);
    return 2;
  }
  const api::op_def* op = api::find_op_def(args[1]);
  if (!op) {
    std::fprintf(stderr, "stopgatectl api schema: no op '%s' ('stopgatectl api ops' lists them)\n", args[1].c_str());
    return 2;
  }
  bool answer = false;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--answer") {
      answer = true;
    } else {
      std::fprintf(stderr, "stopgatectl api schema: unexpected argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  std::fputs(api::pretty_json(answer ? api::answer_schema(*op) : api::request_schema(*op)).c_str(), stdout);
  return 0;
}

int reference(const std::vector<std::string>& args) {
  std::filesystem::path out = "docs";
  bool check = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i] == "--check") {
      check = true;
    } else {
      std::fprintf(stderr, "stopgatectl api reference: unexpected argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  int differ = 0;
  for (const auto& [name, content] : api::reference_files()) {
    const auto path = out / name;
    if (check) {
      if (read_file(path) != content) {
        std::printf("differs: %s\n", path.c_str());
        ++differ;
      }
      continue;
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << content;
    f.close();
    if (!f) {
      std::fprintf(stderr, "stopgatectl api reference: cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("wrote %s\n", path.c_str());
  }
  if (check && differ) {
    std::printf("%d file(s) differ: run 'stopgatectl api reference --out %s'\n", differ, out.c_str());
    return 1;
  }
  if (check) std::printf("every reference file under %s is current\n", out.c_str());
  return 0;
}

int run_api(const global_options&, const std::vector<std::string>& args) {
  if (args.empty()) {
    usage(stderr);
    return 2;
  }
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
  }
  if (args[0] == "ops") return list_ops();
  if (args[0] == "schema") return schema(args);
  if (args[0] == "reference") return reference(args);
  std::fprintf(stderr, "stopgatectl api: unknown subcommand '%s'\n", args[0].c_str());
  usage(stderr);
  return 2;
}

const command_registration reg({"api", "the API reference from the op table: ops, schema OP, reference", &run_api});

}  // namespace
}  // namespace stopgate::ctl
