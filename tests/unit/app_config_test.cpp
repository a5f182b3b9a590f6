#include "app/config.h"

#include <gtest/gtest.h>

#include <map>

namespace isvc::app {
namespace {

EnvLookup env(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(std::map<std::string, std::string> m) {
  try {
    load_config(env(std::move(m)));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsMatchTheSpec) {
  auto c = load_config(env({}));
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.stage, "dev");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.max_file_size, 10485760);
  EXPECT_EQ(c.max_page_size, 100);
  auto origins = effective_cors_origins(c);
  ASSERT_EQ(origins.size(), 3u);
  EXPECT_EQ(origins[2], "http://localhost:3002");
}

TEST(Config, BadValuesNameTheVariable) {
  EXPECT_EQ(error_of({{"PORT", "http"}}).rfind("PORT:", 0), 0u);
  EXPECT_EQ(error_of({{"PORT", "70000"}}).rfind("PORT:", 0), 0u);
  EXPECT_EQ(error_of({{"STAGE", "prod"}}).rfind("STAGE:", 0), 0u);
  EXPECT_EQ(error_of({{"MAX_FILE_SIZE", "-1"}}).rfind("MAX_FILE_SIZE:", 0), 0u);
  EXPECT_EQ(error_of({{"CORS_ALLOWED_ORIGINS", "*"}}).rfind("CORS_ALLOWED_ORIGINS:", 0), 0u);
  EXPECT_EQ(error_of({{"LOG_LEVEL", "loud"}}).rfind("LOG_LEVEL:", 0), 0u);
  EXPECT_EQ(error_of({{"METADATA_BACKEND", "mysql"}}).rfind("METADATA_BACKEND:", 0), 0u);
  EXPECT_EQ(error_of({{"STAGE", "production"}}).rfind("JWT_SECRET:", 0), 0u);
  EXPECT_EQ(error_of({{"STAGE", "production"}, {"JWT_SECRET", "short"}}).rfind("JWT_SECRET:", 0),
            0u);
  EXPECT_EQ(error_of({{"STAGE", "production"}, {"JWT_JWKS_FILE", "/k.json"}}), "");
}

TEST(Config, ExplicitCorsListReplacesDefaults) {
  auto c = load_config(env({{"CORS_ALLOWED_ORIGINS", "https://a.com, https://*.b.com"}}));
  auto o = effective_cors_origins(c);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0], "https://a.com");
  EXPECT_EQ(o[1], "https://*.b.com");
}

}  // namespace
}  // namespace isvc::app
