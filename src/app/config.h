// Configuration from environment variables (SPEC §9). The only place that reads the environment;
// a bad value stops start-up with a message naming the variable.
#pragma once

#include "domain/rate_limit.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace isvc::app {

// Webhooks (docs/webhooks.md); no URLs = off.
struct WebhookConfig {
  std::vector<std::string> urls;       // WEBHOOK_URLS
  std::vector<std::string> secrets;    // WEBHOOK_SECRETS: the key bytes, in the order of urls
  bool allow_private_targets = false;  // WEBHOOK_ALLOW_PRIVATE_TARGETS
  int64_t retry_for_s = 86400;         // WEBHOOK_RETRY_FOR_S
  int64_t retry_initial_ms = 5000;     // WEBHOOK_RETRY_INITIAL_MS
  int64_t retry_max_ms = 900000;       // WEBHOOK_RETRY_MAX_MS
  int64_t timeout_ms = 10000;          // WEBHOOK_TIMEOUT_MS: one attempt, in total
  int64_t connect_timeout_ms = 3000;   // WEBHOOK_CONNECT_TIMEOUT_MS
  int64_t poll_ms = 1000;              // WEBHOOK_POLL_MS
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string stage = "dev";  // dev | staging | production
  std::string log_level = "info";
  std::string data_dir = "./data";
  std::string metadata_backend = "sqlite";
  std::string object_backend = "fs";
  // Distributed backends (SPEC §7, §9).
  std::string dynamodb_table_name = "ImageMetadata";
  std::string dynamodb_endpoint;  // default https://dynamodb.{region}.amazonaws.com
  std::string s3_bucket_name;
  std::string s3_endpoint;  // default https://s3.{region}.amazonaws.com
  bool s3_force_path_style = false;
  bool s3_use_accelerate = false;
  std::string s3_sse = "AES256";  // S3_SSE: AES256 | aws:kms | none
  std::string s3_storage_class;   // S3_STORAGE_CLASS: empty = the bucket's default
  std::string aws_region = "us-east-1";
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string aws_session_token;
  int aws_max_attempts = 4;

  int64_t upload_url_ttl_s = 900;  // direct uploads: how long the PUT URL works
  std::string
      public_base_url;  // the service's own URL (embedded upload URLs); default http://HOST:PORT
  int janitor_interval_s = 3600;  // embedded mode: sweep lapsed temp/ uploads this often

  std::string redis_endpoint;  // optional shared metadata cache (REDIS_ENDPOINT)
  int redis_timeout_ms = 200;
  int redis_breaker_ms = 1000;

  std::string cloudfront_distribution_id;  // purge through CreateInvalidation when set
  std::string cdn_purge_url;               // HTTP PURGE {url}/{key} when set
  int cdn_purge_retry_base_ms = 500;

  std::string cdn_base_url;  // default http://HOST:PORT/files (PORT resolved after binding)
  bool cdn_base_url_explicit = false;

  std::string jwt_secret;
  std::string jwt_jwks_url;
  std::string jwt_jwks_file;
  std::string jwt_issuer;
  std::vector<std::string> jwt_audience;
  std::string cursor_secret;

  int64_t max_file_size = 10 * 1024 * 1024;
  // Image bombs (docs/security.md): container caps checked before decoding, and a deadline on
  // each upload's processing.
  int processing_timeout_ms = 10'000;          // PROCESSING_TIMEOUT_MS; 0 = none
  int64_t image_max_metadata_bytes = 8 << 20;  // IMAGE_MAX_METADATA_BYTES
  int64_t image_max_icc_bytes = 4 << 20;       // IMAGE_MAX_ICC_BYTES
  int64_t image_max_chunks = 5000;             // IMAGE_MAX_CHUNKS
  int64_t jpeg_max_scans = 100;                // JPEG_MAX_SCANS
  int64_t webp_max_frames = 1000;              // WEBP_MAX_FRAMES
  int64_t heif_max_pixels = 4096 * 4096;       // HEIF_MAX_PIXELS (HEIC/AVIF, upright)
  std::vector<std::string> supported_formats = {"jpeg", "png", "webp"};
  // Responsive variants: widths (ascending, 16..2048, at most 12) and formats ("avif", "webp");
  // VARIANT_FORMATS=none turns variants off.
  std::vector<int> variant_widths = {320, 640, 1024, 1280, 1600, 2048};
  std::vector<std::string> variant_formats = {"avif", "webp"};
  int max_page_size = 100;
  std::vector<std::string> cors_allowed_origins;
  bool cors_explicit = false;
  // In-process TLS (TLS_CERT_FILE, TLS_KEY_FILE: PEM; empty = plain HTTP), re-read on SIGHUP.
  std::string tls_cert_file;
  std::string tls_key_file;
  int tls_handshake_timeout_s = 5;  // TLS_HANDSHAKE_TIMEOUT_S, within HEADER_TIMEOUT_S
  bool tls() const { return !tls_cert_file.empty(); }
  std::string notify_socket;  // NOTIFY_SOCKET: set by systemd for Type=notify (app/sd_notify.h)
  domain::RateLimitSettings rate_limits;  // RATE_LIMITS_ENABLED, RATE_LIMIT_*
  int64_t erase_budget_ms = 10'000;
  // IMPORT_KEY_PREFIXES: when set, imported s3Key/thumbnailKey must start with one of these
  // ({userId} = the record's user id as it appears in object keys). Empty: any valid key.
  std::vector<std::string> import_key_prefixes;
  // EXIF_KEEP_GPS (default false): keep an upload's GPS position, rounded to 4 decimals, in its
  // record's exif facts (shown to the owner); off, it is never read into a record.
  bool exif_keep_gps = false;
  int fsck_interval_s = 3600;  // FSCK_INTERVAL_S: report-only consistency check; 0 = off
  int fsck_grace_s = 3600;     // FSCK_GRACE_S: objects younger than this are not orphans yet

  // Tuning (documented in the README).
  int io_threads = 2;
  int worker_threads = 32;
  int processing_threads = 0;  // 0 = number of cores
  int processing_queue = 64;
  int max_connections = 1024;
  int max_connections_per_client = 256;  // MAX_CONNECTIONS_PER_CLIENT; 0 = no per-client cap
  int probe_connections = 64;            // PROBE_CONNECTIONS: reserved for /health, /metrics
  int64_t upload_memory_budget = 256LL * 1024 * 1024;  // UPLOAD_MEMORY_BUDGET: body bytes
  int64_t file_cache_bytes = 64 * 1024 * 1024;
  int webp_effort = 2;
  std::string sqlite_synchronous = "NORMAL";
  int header_timeout_s = 10;
  int body_timeout_s = 120;
  int body_idle_timeout_s = 10;  // BODY_IDLE_TIMEOUT_S
  int64_t min_body_rate = 4096;  // MIN_BODY_RATE: bytes/s, once BODY_IDLE_TIMEOUT_S has passed
  int idle_timeout_s = 30;
  int write_timeout_s = 60;  // WRITE_TIMEOUT_S: to write a whole response (a slow reader is cut)
  int drain_timeout_s = 30;

  WebhookConfig webhooks;

  bool is_dev() const { return stage == "dev"; }
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Parses and validates; throws ConfigError("NAME: reason").
Config load_config(const EnvLookup& env);
// The WEBHOOK_* part of load_config (config_webhooks.cpp).
WebhookConfig load_webhook_config(const EnvLookup& env);
EnvLookup process_env();

// CORS origins after defaults (SPEC §4): explicit list, or the lego-moc defaults plus
// http://localhost:3002 in dev.
std::vector<std::string> effective_cors_origins(const Config& c);

}  // namespace isvc::app
