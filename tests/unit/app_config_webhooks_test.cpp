// The WEBHOOK_* settings (app/config_webhooks.cpp): defaults, values, and start-up errors that
// name the variable (and never echo a secret).
#include <gtest/gtest.h>

#include <map>

#include "app/config.h"
#include "config_env.h"

namespace isvc::app {
namespace {

using test_env::env;
using test_env::error_of;

// base64 of 24 bytes "0123456789abcdefghijklmn"
const std::string kSecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u";

TEST(WebhookConfig, OffByDefaultWithTheDocumentedDefaults) {
  auto w = load_config(env({})).webhooks;
  EXPECT_TRUE(w.urls.empty());
  EXPECT_FALSE(w.allow_private_targets);
  EXPECT_EQ(w.retry_for_s, 86400);
  EXPECT_EQ(w.retry_initial_ms, 5000);
  EXPECT_EQ(w.retry_max_ms, 900000);
  EXPECT_EQ(w.timeout_ms, 10000);
  EXPECT_EQ(w.connect_timeout_ms, 3000);
  EXPECT_EQ(w.poll_ms, 1000);
}

TEST(WebhookConfig, TargetsAndSecretsPairInOrder) {
  auto w = load_config(env({{"WEBHOOK_URLS", "https://a.example/hook, http://b.example:8080/x"},
                            {"WEBHOOK_SECRETS", kSecret + "," + "whsec_" + std::string(24, 'A')},
                            {"WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"},
                            {"WEBHOOK_RETRY_FOR_S", "60"},
                            {"WEBHOOK_RETRY_INITIAL_MS", "10"},
                            {"WEBHOOK_RETRY_MAX_MS", "20"},
                            {"WEBHOOK_TIMEOUT_MS", "500"},
                            {"WEBHOOK_CONNECT_TIMEOUT_MS", "100"},
                            {"WEBHOOK_POLL_MS", "10"}}))
               .webhooks;
  ASSERT_EQ(w.urls,
            (std::vector<std::string>{"https://a.example/hook", "http://b.example:8080/x"}));
  ASSERT_EQ(w.secrets.size(), 2u);
  EXPECT_EQ(w.secrets[0], "0123456789abcdefghijklmn");
  EXPECT_EQ(w.secrets[1], std::string(18, '\0'));
  EXPECT_TRUE(w.allow_private_targets);
  EXPECT_EQ(w.retry_for_s, 60);
  EXPECT_EQ(w.retry_initial_ms, 10);
  EXPECT_EQ(w.retry_max_ms, 20);
  EXPECT_EQ(w.timeout_ms, 500);
  EXPECT_EQ(w.connect_timeout_ms, 100);
  EXPECT_EQ(w.poll_ms, 10);
}

TEST(WebhookConfig, BadValuesNameTheVariable) {
  auto with = [](std::map<std::string, std::string> m) {
    m.emplace("WEBHOOK_URLS", "https://a.example/hook");
    m.emplace("WEBHOOK_SECRETS", kSecret);
    return error_of(std::move(m));
  };
  EXPECT_EQ(with({}), "");
  EXPECT_EQ(error_of({{"WEBHOOK_URLS", "https://a.example/hook"}}).rfind("WEBHOOK_SECRETS:", 0),
            0u);
  EXPECT_EQ(error_of({{"WEBHOOK_SECRETS", kSecret}}).rfind("WEBHOOK_SECRETS:", 0), 0u);
  auto count = error_of(
      {{"WEBHOOK_URLS", "https://a.example/1,https://a.example/2"}, {"WEBHOOK_SECRETS", kSecret}});
  EXPECT_EQ(count, "WEBHOOK_SECRETS: 1 secrets for 2 WEBHOOK_URLS; give one per URL, in order");
  for (std::string bad :
       {"MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u", "whsec_", "whsec_!!!!", "whsec_YWJj" /* 3 bytes */})
    EXPECT_EQ(with({{"WEBHOOK_SECRETS", bad}}),
              "WEBHOOK_SECRETS: secret 1 must be whsec_ followed by the base64 of 16 to 64 bytes")
        << bad;
  for (std::string bad : {"ftp://a.example/", "a.example/hook", "https://", "https:///path",
                          "http://user:pw@a.example/", "https://a.example/a b"})
    EXPECT_EQ(with({{"WEBHOOK_URLS", bad}}).rfind("WEBHOOK_URLS:", 0), 0u) << bad;
  EXPECT_EQ(error_of({{"WEBHOOK_URLS", "https://a.example/,https://a.example/"},
                      {"WEBHOOK_SECRETS", kSecret + "," + kSecret}}),
            "WEBHOOK_URLS: 'https://a.example/' is listed twice");
  EXPECT_EQ(
      with({{"WEBHOOK_ALLOW_PRIVATE_TARGETS", "maybe"}}).rfind("WEBHOOK_ALLOW_PRIVATE_TARGETS:", 0),
      0u);
  EXPECT_EQ(with({{"WEBHOOK_RETRY_FOR_S", "0"}}).rfind("WEBHOOK_RETRY_FOR_S:", 0), 0u);
  EXPECT_EQ(with({{"WEBHOOK_RETRY_FOR_S", "604801"}}).rfind("WEBHOOK_RETRY_FOR_S:", 0), 0u);
  EXPECT_EQ(with({{"WEBHOOK_RETRY_INITIAL_MS", "9"}}).rfind("WEBHOOK_RETRY_INITIAL_MS:", 0), 0u);
  EXPECT_EQ(with({{"WEBHOOK_RETRY_INITIAL_MS", "100"}, {"WEBHOOK_RETRY_MAX_MS", "50"}}),
            "WEBHOOK_RETRY_MAX_MS: must not be below WEBHOOK_RETRY_INITIAL_MS");
  EXPECT_EQ(with({{"WEBHOOK_TIMEOUT_MS", "99"}}).rfind("WEBHOOK_TIMEOUT_MS:", 0), 0u);
  EXPECT_EQ(with({{"WEBHOOK_TIMEOUT_MS", "1000"}, {"WEBHOOK_CONNECT_TIMEOUT_MS", "2000"}}),
            "WEBHOOK_CONNECT_TIMEOUT_MS: must not exceed WEBHOOK_TIMEOUT_MS");
  EXPECT_EQ(with({{"WEBHOOK_POLL_MS", "x"}}).rfind("WEBHOOK_POLL_MS:", 0), 0u);
  // A bad secret is named by position, never echoed.
  EXPECT_EQ(with({{"WEBHOOK_SECRETS", "whsec_c2VjcmV0LXNlY3JldA=="}}).find("c2VjcmV0"),
            std::string::npos);
}

}  // namespace
}  // namespace isvc::app
