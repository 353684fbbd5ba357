// A tool that uses only some of the config's secrets (stopgatectl) loads it without the
// others in the environment; the gateway (no filter) still needs every one.
#include "config/load.hpp"
#include "tests/config/config_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stopgate::config {
namespace {

using test::k_minimal;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

load_options empty_environment(std::function<bool(std::string_view)> needs) {
  load_options o;
  o.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  o.cwd = "/srv/stopgate";
  o.needs_secret = std::move(needs);
  return o;
}

bool redis_only(std::string_view path) {
  return path.starts_with("redis.");
}

TEST(ConfigNeededSecrets, AnUnsetEvidenceKeyIsAProblemOnlyWhenNeeded) {
  auto all = load_string(k_minimal, "t.toml", empty_environment({}));
  ASSERT_FALSE(all);
  EXPECT_THAT(all.error().to_string(), HasSubstr("STOPGATE_EVIDENCE_KEY is not set"));

  auto some = load_string(k_minimal, "t.toml", empty_environment(redis_only));
  ASSERT_TRUE(some) << some.error().to_string();
  EXPECT_TRUE((*some)->evidence.hmac_key.empty());
  EXPECT_THAT((*some)->unresolved_secrets, ElementsAre("evidence.hmac_key"));
}

TEST(ConfigNeededSecrets, ANeededSecretMustStillBeSet) {
  const std::string text =
      k_minimal + "[redis]\nurl = \"tcp://127.0.0.1:6379\"\npassword = \"env:REDIS_PW\"\n" +
      "[evidence]\nhmac_key = \"env:EV_KEY\"\n";
  auto r = load_string(text, "t.toml", empty_environment(redis_only));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().to_string(),
              HasSubstr("redis.password: environment variable REDIS_PW is not set"));
  EXPECT_THAT(r.error().to_string(), ::testing::Not(HasSubstr("EV_KEY")));
}

}  // namespace
}  // namespace stopgate::config
