#include "app/config.h"
#include "app/config_file.h"
#include "config_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace isvc::app {
namespace {

using test_env::env;
using test_env::error_of;

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

TEST(Config, RateLimitsDefaultOnWithTheSpecsNumbersAndAreTunable) {
  auto c = load_config(env({}));
  EXPECT_TRUE(c.rate_limits.enabled);
  EXPECT_EQ(c.rate_limits.uploads_per_minute, 10);
  EXPECT_EQ(c.rate_limits.uploads_per_hour, 100);
  EXPECT_EQ(c.rate_limits.updates_per_minute, 50);
  EXPECT_EQ(c.rate_limits.deletes_per_minute, 50);
  EXPECT_EQ(c.rate_limits.reads_per_second, 1000);
  auto t =
      load_config(env({{"RATE_LIMITS_ENABLED", "false"}, {"RATE_LIMIT_UPLOADS_PER_HOUR", "7"}}));
  EXPECT_FALSE(t.rate_limits.enabled);
  EXPECT_EQ(t.rate_limits.uploads_per_hour, 7);
  EXPECT_EQ(
      error_of({{"RATE_LIMIT_READS_PER_SECOND", "0"}}).rfind("RATE_LIMIT_READS_PER_SECOND:", 0),
      0u);
  EXPECT_EQ(error_of({{"RATE_LIMITS_ENABLED", "maybe"}}).rfind("RATE_LIMITS_ENABLED:", 0), 0u);
  EXPECT_EQ(error_of({{"EXIF_KEEP_GPS", "sometimes"}}).rfind("EXIF_KEEP_GPS:", 0), 0u);
  EXPECT_FALSE(load_config(env({})).exif_keep_gps);
  EXPECT_TRUE(load_config(env({{"EXIF_KEEP_GPS", "true"}})).exif_keep_gps);
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

namespace isvc::app {
namespace {

TEST(Config, DistributedBackendsNeedCredentialsAndABucket) {
  std::map<std::string, std::string> d = {{"METADATA_BACKEND", "dynamodb"},
                                          {"OBJECT_BACKEND", "s3"},
                                          {"S3_BUCKET_NAME", "my-images"},
                                          {"AWS_ACCESS_KEY_ID", "AKID"},
                                          {"AWS_SECRET_ACCESS_KEY", "secret"}};
  auto c = load_config(env(d));
  EXPECT_EQ(c.metadata_backend, "dynamodb");
  EXPECT_EQ(c.dynamodb_table_name, "ImageMetadata");
  EXPECT_EQ(c.aws_region, "us-east-1");
  EXPECT_EQ(c.s3_sse, "AES256");
  EXPECT_EQ(c.aws_max_attempts, 4);

  auto without = [&](const std::string& k) {
    auto m = d;
    m.erase(k);
    return error_of(m);
  };
  EXPECT_EQ(without("AWS_ACCESS_KEY_ID").rfind("AWS_ACCESS_KEY_ID:", 0), 0u);
  EXPECT_EQ(without("AWS_SECRET_ACCESS_KEY").rfind("AWS_SECRET_ACCESS_KEY:", 0), 0u);
  EXPECT_EQ(without("S3_BUCKET_NAME").rfind("S3_BUCKET_NAME:", 0), 0u);

  auto with = [&](const std::string& k, const std::string& v) {
    auto m = d;
    m[k] = v;
    return error_of(m);
  };
  EXPECT_EQ(with("S3_BUCKET_NAME", "Upper_Case").rfind("S3_BUCKET_NAME:", 0), 0u);
  EXPECT_EQ(with("DYNAMODB_TABLE_NAME", "a b").rfind("DYNAMODB_TABLE_NAME:", 0), 0u);
  EXPECT_EQ(with("DYNAMODB_ENDPOINT", "ftp://x").rfind("DYNAMODB_ENDPOINT:", 0), 0u);
  EXPECT_EQ(with("S3_ENDPOINT", "localhost:9000").rfind("S3_ENDPOINT:", 0), 0u);
  EXPECT_EQ(with("S3_FORCE_PATH_STYLE", "maybe").rfind("S3_FORCE_PATH_STYLE:", 0), 0u);
  EXPECT_EQ(with("S3_SSE", "rot13").rfind("S3_SSE:", 0), 0u);
  EXPECT_EQ(with("AWS_REGION", "EU West").rfind("AWS_REGION:", 0), 0u);
  EXPECT_EQ(with("AWS_MAX_ATTEMPTS", "0").rfind("AWS_MAX_ATTEMPTS:", 0), 0u);
  EXPECT_EQ(with("REDIS_ENDPOINT", "rediss://cache:6380").rfind("REDIS_ENDPOINT:", 0), 0u);
  EXPECT_EQ(with("REDIS_ENDPOINT", "redis://cache:port").rfind("REDIS_ENDPOINT:", 0), 0u);
  EXPECT_EQ(with("CDN_PURGE_URL", "varnish").rfind("CDN_PURGE_URL:", 0), 0u);
  EXPECT_EQ(with("CLOUDFRONT_DISTRIBUTION_ID", "e2-bad").rfind("CLOUDFRONT_DISTRIBUTION_ID:", 0),
            0u);
  EXPECT_EQ(with("UPLOAD_URL_TTL_S", "0").rfind("UPLOAD_URL_TTL_S:", 0), 0u);
  EXPECT_EQ(with("S3_SSE", "none"), "");
  EXPECT_EQ(load_config(env({{"AWS_DEFAULT_REGION", "eu-west-1"}})).aws_region, "eu-west-1");
  // CloudFront purges are signed too.
  EXPECT_EQ(
      error_of({{"CLOUDFRONT_DISTRIBUTION_ID", "E2QWRUHAPOMQZL"}}).rfind("AWS_ACCESS_KEY_ID:", 0),
      0u);
}

TEST(Config, HostileClientLimits) {
  auto d = load_config(env({}));
  EXPECT_EQ(d.upload_memory_budget, 256LL * 1024 * 1024);
  EXPECT_EQ(d.body_idle_timeout_s, 10);
  EXPECT_EQ(d.min_body_rate, 4096);
  EXPECT_EQ(d.max_connections_per_client, 256);
  EXPECT_EQ(d.probe_connections, 64);
  EXPECT_EQ(d.write_timeout_s, 60);
  EXPECT_EQ(load_config(env({{"WRITE_TIMEOUT_S", "2"}})).write_timeout_s, 2);
  auto c = load_config(env({{"UPLOAD_MEMORY_BUDGET", "50000000"},
                            {"BODY_IDLE_TIMEOUT_S", "3"},
                            {"MIN_BODY_RATE", "0"},
                            {"MAX_CONNECTIONS_PER_CLIENT", "0"},
                            {"PROBE_CONNECTIONS", "8"}}));
  EXPECT_EQ(c.upload_memory_budget, 50000000);
  EXPECT_EQ(c.body_idle_timeout_s, 3);
  EXPECT_EQ(c.min_body_rate, 0);
  EXPECT_EQ(c.max_connections_per_client, 0);
  EXPECT_EQ(c.probe_connections, 8);
  EXPECT_NE(error_of({{"UPLOAD_MEMORY_BUDGET", "1000"}}).find("UPLOAD_MEMORY_BUDGET"),
            std::string::npos);
  EXPECT_NE(error_of({{"MAX_FILE_SIZE", "20000000"}, {"UPLOAD_MEMORY_BUDGET", "20000000"}})
                .find("UPLOAD_MEMORY_BUDGET: must be at least"),
            std::string::npos);
  for (const char* name : {"BODY_IDLE_TIMEOUT_S", "MIN_BODY_RATE", "MAX_CONNECTIONS_PER_CLIENT",
                           "PROBE_CONNECTIONS", "WRITE_TIMEOUT_S"})
    EXPECT_NE(error_of({{name, "-1"}}).find(name), std::string::npos) << name;
}

}  // namespace
}  // namespace isvc::app

namespace isvc::app {
namespace {

TEST(Config, ImportKeyPrefixesAreAListOfRelativePrefixes) {
  EXPECT_TRUE(load_config(env({})).import_key_prefixes.empty());
  auto c = load_config(env({{"IMPORT_KEY_PREFIXES", " legacy/{userId}/ ,shared/,,"}}));
  EXPECT_EQ(c.import_key_prefixes, (std::vector<std::string>{"legacy/{userId}/", "shared/"}));
  for (const char* bad : {"/abs/", "../x/", "a/../b", "http://x/", "c:/x", "a//b", "temp/", "a\\b",
                          "legacy/{user}/", "legacy/{userId/", "a/./b"})
    EXPECT_EQ(error_of({{"IMPORT_KEY_PREFIXES", bad}}).rfind("IMPORT_KEY_PREFIXES:", 0), 0u) << bad;
  EXPECT_EQ(error_of({{"IMPORT_KEY_PREFIXES", "gallery/a:b/"}}), "");  // ':' past the first segment
}

TEST(Config, SupportedFormatsAreASubsetOfTheThree) {
  using V = std::vector<std::string>;
  EXPECT_EQ(load_config(env({})).supported_formats, (V{"jpeg", "png", "webp"}));
  EXPECT_EQ(load_config(env({{"SUPPORTED_FORMATS", "jpeg"}})).supported_formats, V{"jpeg"});
  EXPECT_EQ(load_config(env({{"SUPPORTED_FORMATS", " WebP , jpg,JPEG "}})).supported_formats,
            (V{"webp", "jpeg"}));  // names are case-blind, jpg is jpeg, repeats count once
  EXPECT_EQ(load_config(env({{"SUPPORTED_FORMATS", ""}})).supported_formats.size(), 3u);  // unset
  // HEIC and AVIF are opt-in; heif is another name of heic.
  EXPECT_EQ(load_config(env({{"SUPPORTED_FORMATS", "jpeg,HEIF,avif,heic"}})).supported_formats,
            (V{"jpeg", "heic", "avif"}));
  for (const char* bad : {"gif", "jpeg,tiff", " , ", "avis", "heics"})
    EXPECT_EQ(error_of({{"SUPPORTED_FORMATS", bad}}).rfind("SUPPORTED_FORMATS:", 0), 0u) << bad;
}

TEST(Config, VariantWidthsAndFormats) {
  using W = std::vector<int>;
  using F = std::vector<std::string>;
  auto c = load_config(env({}));
  EXPECT_EQ(c.variant_widths, (W{320, 640, 1024, 1280, 1600, 2048}));
  EXPECT_EQ(c.variant_formats, (F{"avif", "webp"}));
  c = load_config(env({{"VARIANT_WIDTHS", "800, 400,800"}, {"VARIANT_FORMATS", "WEBP"}}));
  EXPECT_EQ(c.variant_widths, (W{400, 800}));  // sorted, repeats once
  EXPECT_EQ(c.variant_formats, F{"webp"});
  EXPECT_TRUE(load_config(env({{"VARIANT_FORMATS", "none"}})).variant_formats.empty());
  for (const char* bad :
       {"15", "2049", "abc", "-1", "16,17,18,19,20,21,22,23,24,25,26,27,28", " , "})
    EXPECT_EQ(error_of({{"VARIANT_WIDTHS", bad}}).rfind("VARIANT_WIDTHS:", 0), 0u) << bad;
  for (const char* bad : {"jpeg", "avif,gif", "none,webp"})
    EXPECT_EQ(error_of({{"VARIANT_FORMATS", bad}}).rfind("VARIANT_FORMATS:", 0), 0u) << bad;
}

TEST(Config, ImageBombLimitsDefaultAndAreTunable) {
  auto c = load_config(env({}));
  EXPECT_EQ(c.processing_timeout_ms, 10000);
  EXPECT_EQ(c.image_max_metadata_bytes, 8 << 20);
  EXPECT_EQ(c.image_max_icc_bytes, 4 << 20);
  EXPECT_EQ(c.image_max_chunks, 5000);
  EXPECT_EQ(c.jpeg_max_scans, 100);
  EXPECT_EQ(c.webp_max_frames, 1000);
  EXPECT_EQ(c.heif_max_pixels, 4096 * 4096);
  auto t = load_config(env({{"PROCESSING_TIMEOUT_MS", "0"},
                            {"IMAGE_MAX_METADATA_BYTES", "65536"},
                            {"IMAGE_MAX_ICC_BYTES", "4096"},
                            {"IMAGE_MAX_CHUNKS", "16"},
                            {"JPEG_MAX_SCANS", "12"},
                            {"WEBP_MAX_FRAMES", "1"},
                            {"HEIF_MAX_PIXELS", "64000000"}}));
  EXPECT_EQ(t.processing_timeout_ms, 0);
  EXPECT_EQ(t.image_max_metadata_bytes, 65536);
  EXPECT_EQ(t.image_max_icc_bytes, 4096);
  EXPECT_EQ(t.image_max_chunks, 16);
  EXPECT_EQ(t.jpeg_max_scans, 12);
  EXPECT_EQ(t.webp_max_frames, 1);
  EXPECT_EQ(t.heif_max_pixels, 64000000);
  for (auto [name, bad] :
       {std::pair{"PROCESSING_TIMEOUT_MS", "-5"}, std::pair{"PROCESSING_TIMEOUT_MS", "10s"},
        std::pair{"IMAGE_MAX_METADATA_BYTES", "100"}, std::pair{"IMAGE_MAX_ICC_BYTES", "lots"},
        std::pair{"IMAGE_MAX_CHUNKS", "15"}, std::pair{"JPEG_MAX_SCANS", "0"},
        std::pair{"WEBP_MAX_FRAMES", "0"}, std::pair{"HEIF_MAX_PIXELS", "64000001"},
        std::pair{"HEIF_MAX_PIXELS", "9999"}})
    EXPECT_EQ(error_of({{name, bad}}).rfind(std::string(name) + ":", 0), 0u) << name << "=" << bad;
}

}  // namespace
}  // namespace isvc::app

namespace isvc::app {
namespace {

// ---- TLS settings and the --config file (issue 16) ----

TEST(Config, TlsNeedsBothFilesAndABoundedHandshakeTimeout) {
  auto c = load_config(env({}));
  EXPECT_FALSE(c.tls());
  EXPECT_EQ(c.tls_handshake_timeout_s, 5);
  auto t = load_config(env(
      {{"TLS_CERT_FILE", "/c.pem"}, {"TLS_KEY_FILE", "/k.pem"}, {"TLS_HANDSHAKE_TIMEOUT_S", "3"}}));
  EXPECT_TRUE(t.tls());
  EXPECT_EQ(t.tls_cert_file, "/c.pem");
  EXPECT_EQ(t.tls_key_file, "/k.pem");
  EXPECT_EQ(t.tls_handshake_timeout_s, 3);
  EXPECT_EQ(error_of({{"TLS_CERT_FILE", "/c.pem"}}), "TLS_KEY_FILE: required with TLS_CERT_FILE");
  EXPECT_EQ(error_of({{"TLS_KEY_FILE", "/k.pem"}}), "TLS_CERT_FILE: required with TLS_KEY_FILE");
  EXPECT_EQ(error_of({{"TLS_HANDSHAKE_TIMEOUT_S", "0"}}).rfind("TLS_HANDSHAKE_TIMEOUT_S:", 0), 0u);
  EXPECT_EQ(error_of({{"TLS_HANDSHAKE_TIMEOUT_S", "5s"}}).rfind("TLS_HANDSHAKE_TIMEOUT_S:", 0), 0u);
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("isvc-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  std::string error_of(const std::string& path, std::map<std::string, std::string> e = {}) {
    try {
      load_settings(path, env(std::move(e)));
    } catch (const ConfigError& err) {
      return err.what();
    }
    return "";
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFile, ReadsTheEnvironmentFileFormat) {
  auto path = write("a.env",
                    "# comment\n"
                    "; also a comment\n"
                    "\n"
                    "PORT=9090\n"
                    "  HOST = 0.0.0.0  \n"
                    "STAGE='staging'\n"
                    "JWT_SECRET=\"0123456789abcdef0123456789abcdef \\\"q\\\" \\$x\"\n"
                    "CORS_ALLOWED_ORIGINS=https://a.example, https://b.example\n"
                    "LOG_LEVEL=\n");
  auto c = load_settings(path, env({}));
  EXPECT_EQ(c.port, 9090);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.stage, "staging");
  EXPECT_EQ(c.jwt_secret, "0123456789abcdef0123456789abcdef \"q\" $x");
  EXPECT_EQ(c.cors_allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(c.log_level, "info");  // empty = the default, as in the environment
}

TEST_F(ConfigFile, TheEnvironmentOverridesTheFile) {
  auto path = write("a.env", "PORT=9090\nDATA_DIR=/from/file\n");
  auto c = load_settings(path, env({{"PORT", "7070"}}));
  EXPECT_EQ(c.port, 7070);
  EXPECT_EQ(c.data_dir, "/from/file");
  // A bad value in the file does not matter when the environment overrides it.
  auto bad = write("b.env", "PORT=lots\n");
  EXPECT_EQ(load_settings(bad, env({{"PORT", "7071"}})).port, 7071);
}

TEST_F(ConfigFile, UnknownKeysAndBadValuesNameTheKeyAndLine) {
  auto unknown = write("u.env", "PORT=9090\n\nPROT=1\n");
  EXPECT_EQ(error_of(unknown), "PROT: unknown setting (" + unknown + " line 3)");
  auto bad = write("b.env", "# x\nMAX_PAGE_SIZE=0\n");
  EXPECT_EQ(error_of(bad), "MAX_PAGE_SIZE: must be between 1 and 1000, got 0 (" + bad + " line 2)");
  // From the environment, the same error carries no file line.
  EXPECT_EQ(error_of(bad, {{"MAX_PAGE_SIZE", "2000"}}),
            "MAX_PAGE_SIZE: must be between 1 and 1000, got 2000");
  EXPECT_NE(error_of(write("e3.env", "export PORT=1\n")).find("line 1: 'export' is not part"),
            std::string::npos);
  EXPECT_NE(error_of(write("n.env", "PORT\n")).find("line 1: expected KEY=value"),
            std::string::npos);
  EXPECT_NE(error_of(write("q.env", "HOST=\"open\n")).find("line 1: unterminated quote"),
            std::string::npos);
  EXPECT_EQ(error_of((dir_ / "missing.env").string()).rfind("--config: cannot read", 0), 0u);
  // Settings read only when another is set are known too (AWS_DEFAULT_REGION).
  EXPECT_EQ(error_of(write("r.env", "AWS_REGION=eu-west-1\nAWS_DEFAULT_REGION=eu-west-2\n")), "");
}

TEST_F(ConfigFile, SecretsFromFilesInTheFileOrTheEnvironment) {
  auto secret = write("jwt", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-42\n");
  auto path = write("a.env", "STAGE=production\nJWT_SECRET_FILE=" + secret + "\n");
  EXPECT_EQ(load_settings(path, env({})).jwt_secret, "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-42");
  // The environment's JWT_SECRET wins over the file's JWT_SECRET_FILE.
  EXPECT_EQ(load_settings(path, env({{"JWT_SECRET", std::string(40, 'e')}})).jwt_secret,
            std::string(40, 'e'));
  // X_FILE works in the environment too, without a config file.
  EXPECT_EQ(load_settings("", env({{"CURSOR_SECRET_FILE", secret}})).cursor_secret,
            "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-42");
  EXPECT_EQ(error_of("", {{"JWT_SECRET", "x"}, {"JWT_SECRET_FILE", secret}}),
            "JWT_SECRET: set either JWT_SECRET or JWT_SECRET_FILE, not both");
  auto missing = write("m.env", "JWT_SECRET_FILE=/nonexistent/jwt\n");
  EXPECT_EQ(error_of(missing),
            "JWT_SECRET_FILE: cannot read '/nonexistent/jwt' (" + missing + " line 1)");
  // A secret too short outside dev names the setting and the line it came from.
  auto short_secret = write("short", "tiny\n");
  auto s = write("s.env", "STAGE=staging\n\nJWT_SECRET_FILE=" + short_secret + "\n");
  EXPECT_EQ(error_of(s), "JWT_SECRET: must be at least 32 bytes outside dev (" + s + " line 3)");
}

}  // namespace
}  // namespace isvc::app
