// The op table (gateway/api/op_table.cpp) against what is published from it: docs/API.md and
// docs/api/*.json must be exactly what the table generates, every example must be a valid
// request for its op, and unknown fields are named. Tests/gateway/daemon_test.cpp sends every
// example to a real gateway.
#include "gateway/api/dispatcher.hpp"
#include "gateway/api/reference.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace stopgate::test {
namespace {

namespace api = gateway::api;
namespace json = boost::json;

std::filesystem::path docs_dir() {
  const char* src = std::getenv("STOPGATE_SOURCE_DIR");
  return std::filesystem::path(src ? src : STOPGATE_SOURCE_DIR) / "docs";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ApiReference, CheckedInFilesAreWhatTheOpTableGenerates) {
  std::set<std::string> generated;
  for (const auto& [name, content] : api::reference_files()) {
    generated.insert(name);
    EXPECT_EQ(slurp(docs_dir() / name), content)
        << "docs/" << name
        << " differs from the op table: run 'build/tools/stopgatectl/stopgatectl api reference --out docs'";
  }
  // No schema is left behind for an op the table no longer has.
  for (const auto& e : std::filesystem::directory_iterator(docs_dir() / "api"))
    EXPECT_TRUE(generated.count("api/" + e.path().filename().string())) << e.path() << " is not generated";
}

TEST(ApiReference, EveryExampleIsAValidRequestAndADocumentedAnswer) {
  for (const auto& op : api::op_table()) {
    SCOPED_TRACE(std::string(op.name));
    json::value req = json::parse(op.example_request);
    ASSERT_TRUE(req.is_object());
    EXPECT_EQ(req.at("op").as_string(), op.name);
    EXPECT_EQ(api::unknown_field(op, req.get_object()), std::nullopt);
    for (const auto& f : op.fields) {
      if (f.required) {
        EXPECT_TRUE(req.get_object().contains(f.name)) << f.name << " is required";
      }
    }
    json::value ans = json::parse(op.example_answer);
    ASSERT_TRUE(ans.is_object());
    EXPECT_EQ(ans.at("ok"), true);
    std::set<std::string> declared{"id", "ok"};
    for (const auto& a : op.answer) {
      declared.insert(std::string(a.name));
      if (a.always) {
        EXPECT_TRUE(ans.get_object().contains(a.name)) << a.name << " is always answered";
      }
    }
    for (const auto& [k, v] : ans.get_object()) EXPECT_TRUE(declared.count(std::string(k))) << k << " is not declared";
  }
}

TEST(ApiReference, TheRoleTableIsTheOpTable) {
  for (const auto& op : api::op_table()) {
    auto spec = api::standard_op_spec(op.name);
    ASSERT_TRUE(spec) << op.name;
    EXPECT_EQ(spec->role, op.role) << op.name;
    EXPECT_EQ(spec->def, &op);
  }
  EXPECT_EQ(api::standard_op_spec("reload"), std::nullopt);  // SIGHUP reloads; not an op
  EXPECT_EQ(api::standard_op_spec("nosuch"), std::nullopt);
  EXPECT_EQ(api::standard_op_spec("optout")->role, config::role::consent);
  EXPECT_EQ(api::standard_op_spec("forget")->role, config::role::admin);
  EXPECT_EQ(api::standard_op_spec("ping")->role, std::nullopt);
}

TEST(ApiReference, AFieldTheOpDoesNotDefineIsNamed) {
  const api::op_def& send = *api::find_op_def("send");
  auto m = api::unknown_field(send, json::parse(R"({"op":"send","to":"+12125552671","body":"hi","sent_at":"2026-12-08T09:00:00Z"})").as_object());
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("unknown field 'sent_at'"), std::string::npos) << *m;
  EXPECT_NE(m->find("idempotency_key"), std::string::npos) << *m;  // says what the op takes

  const api::op_def& consent = *api::find_op_def("consent");
  m = api::unknown_field(consent, json::parse(R"({"op":"consent","source":{"method":"web_form","txt":"typo"}})").as_object());
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("unknown field 'source.txt'"), std::string::npos) << *m;

  // The envelope and the caller's own x_ members are not refused.
  const api::op_def& check = *api::find_op_def("check");
  EXPECT_EQ(api::unknown_field(check, json::parse(R"({"op":"check","id":3,"to":"+12125552671","x_trace":"abc"})").as_object()),
            std::nullopt);
  m = api::unknown_field(check, json::parse(R"({"op":"check","to":"+12125552671","purpos":"informational"})").as_object());
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("'purpos'"), std::string::npos) << *m;
  m = api::unknown_field(*api::find_op_def("stats"), json::parse(R"({"op":"stats","verbose":true})").as_object());
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("stats takes: no fields"), std::string::npos) << *m;
}

TEST(ApiReference, SchemasFollowTheTable) {
  const api::op_def& consent = *api::find_op_def("consent");
  const json::object s = api::request_schema(consent);
  EXPECT_EQ(s.at("additionalProperties"), false);
  EXPECT_EQ(s.at("required"), (json::array{"op", "to", "kind", "captured_at", "source"}));
  const auto& kind = s.at("properties").at("kind").as_object();
  EXPECT_EQ(kind.at("enum"), (json::array{"express_written", "express", "ebr_purchase", "ebr_inquiry"}));
  const auto& source = s.at("properties").at("source").as_object();
  EXPECT_EQ(source.at("required"), json::array{"method"});
  EXPECT_EQ(source.at("additionalProperties"), false);

  const json::object check = api::request_schema(*api::find_op_def("check"));
  EXPECT_EQ(check.at("properties").at("commit").at("default"), false);
  EXPECT_EQ(check.at("properties").at("channel").at("default"), "sms");

  const json::object doc = api::openapi_document();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  for (auto path : {"/v1/ops", "/v1/check", "/healthz", "/readyz", "/metrics", "/v1/inbound/{carrier}", "/v1/status/{carrier}"})
    EXPECT_TRUE(doc.at("paths").as_object().contains(path)) << path;
  EXPECT_EQ(doc.at("paths").at("/v1/ops").at("post").at("requestBody").at("content").at("application/json").at("schema").at("oneOf").as_array().size(),
            api::op_table().size());
}

// Batching (one contact fetch for the requests of one socket read) is the op table's word:
// only the check, whose uncommitted answers depend on nothing but the facts fetched together.
TEST(ApiReference, OnlyTheCheckIsBatchable) {
  for (const auto& op : api::op_table())
    EXPECT_EQ(op.batchable, op.id == api::op_id::check) << op.name;
}

}  // namespace
}  // namespace stopgate::test
