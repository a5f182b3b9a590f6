#include "app/config.h"

#include "cache/redis_client.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <thread>

namespace isvc::app {

namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    auto item =
        trim(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int64_t parse_int(const std::string& name, const std::string& v, int64_t lo, int64_t hi) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size())
    throw ConfigError(name + ": expected an integer, got '" + v + "'");
  if (out < lo || out > hi)
    throw ConfigError(name + ": must be between " + std::to_string(lo) + " and " +
                      std::to_string(hi) + ", got " + v);
  return out;
}

bool parse_bool(const std::string& name, const std::string& v) {
  std::string l = v;
  std::transform(l.begin(), l.end(), l.begin(), ::tolower);
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  throw ConfigError(name + ": expected true or false, got '" + v + "'");
}

void check_origin(const std::string& o) {
  bool scheme = o.rfind("https://", 0) == 0 || o.rfind("http://", 0) == 0;
  bool bad_wildcard = o.find('*') != std::string::npos && o.find("://*.") == std::string::npos;
  if (!scheme || bad_wildcard)
    throw ConfigError("CORS_ALLOWED_ORIGINS: '" + o +
                      "' is not an origin (scheme://host[:port], optionally scheme://*.domain)");
  if (o.back() == '/') throw ConfigError("CORS_ALLOWED_ORIGINS: '" + o + "' must not end in '/'");
}

void check_url(const char* name, const std::string& v) {
  if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
    throw ConfigError(std::string(name) + ": must be an http(s) URL, got '" + v + "'");
}

template <class Get>
void load_aws(Config& c, Get& get) {
  if (auto v = get("AWS_REGION"))
    c.aws_region = *v;
  else if (auto d = get("AWS_DEFAULT_REGION"))
    c.aws_region = *d;
  if (c.aws_region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
    throw ConfigError("AWS_REGION: '" + c.aws_region + "' is not a region name");
  if (auto v = get("AWS_ACCESS_KEY_ID")) c.aws_access_key_id = *v;
  if (auto v = get("AWS_SECRET_ACCESS_KEY")) c.aws_secret_access_key = *v;
  if (auto v = get("AWS_SESSION_TOKEN")) c.aws_session_token = *v;
  if (auto v = get("AWS_MAX_ATTEMPTS"))
    c.aws_max_attempts = int(parse_int("AWS_MAX_ATTEMPTS", *v, 1, 20));
  if (auto v = get("DYNAMODB_TABLE_NAME")) {
    bool ok =
        v->size() >= 3 && v->size() <= 255 &&
        v->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
            std::string::npos;
    if (!ok) throw ConfigError("DYNAMODB_TABLE_NAME: '" + *v + "' is not a valid table name");
    c.dynamodb_table_name = *v;
  }
  if (auto v = get("DYNAMODB_ENDPOINT")) {
    check_url("DYNAMODB_ENDPOINT", *v);
    c.dynamodb_endpoint = *v;
  }
  if (auto v = get("S3_BUCKET_NAME")) {
    bool ok = v->size() >= 3 && v->size() <= 63 &&
              v->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos;
    if (!ok) throw ConfigError("S3_BUCKET_NAME: '" + *v + "' is not a valid bucket name");
    c.s3_bucket_name = *v;
  }
  if (auto v = get("S3_ENDPOINT")) {
    check_url("S3_ENDPOINT", *v);
    c.s3_endpoint = *v;
  }
  if (auto v = get("S3_FORCE_PATH_STYLE"))
    c.s3_force_path_style = parse_bool("S3_FORCE_PATH_STYLE", *v);
  if (auto v = get("S3_USE_ACCELERATE")) c.s3_use_accelerate = parse_bool("S3_USE_ACCELERATE", *v);
  if (auto v = get("S3_SSE")) {
    if (*v != "AES256" && *v != "aws:kms" && *v != "none")
      throw ConfigError("S3_SSE: must be AES256, aws:kms or none, got '" + *v + "'");
    c.s3_sse = *v == "none" ? "" : *v;
  }
  if (auto v = get("S3_STORAGE_CLASS")) {
    if (v->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos)
      throw ConfigError("S3_STORAGE_CLASS: '" + *v + "' is not a storage class");
    c.s3_storage_class = *v;
  }
  bool uses_aws = c.metadata_backend == "dynamodb" || c.object_backend == "s3" ||
                  !c.cloudfront_distribution_id.empty();
  if (uses_aws && (c.aws_access_key_id.empty() || c.aws_secret_access_key.empty()))
    throw ConfigError(
        std::string(c.aws_access_key_id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
        ": required with METADATA_BACKEND=dynamodb, OBJECT_BACKEND=s3 or "
        "CLOUDFRONT_DISTRIBUTION_ID");
  if (c.object_backend == "s3" && c.s3_bucket_name.empty())
    throw ConfigError("S3_BUCKET_NAME: required with OBJECT_BACKEND=s3");
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Config load_config(const EnvLookup& env) {
  Config c;
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto v = env(name);
    if (v && v->empty()) return std::nullopt;  // an empty variable means "use the default"
    return v;
  };
  if (auto v = get("HOST")) c.host = *v;
  if (auto v = get("PORT")) c.port = static_cast<uint16_t>(parse_int("PORT", *v, 0, 65535));
  if (auto v = get("STAGE")) {
    if (*v != "dev" && *v != "staging" && *v != "production")
      throw ConfigError("STAGE: must be dev, staging or production, got '" + *v + "'");
    c.stage = *v;
  }
  if (auto v = get("LOG_LEVEL")) {
    if (*v != "debug" && *v != "info" && *v != "warn" && *v != "error")
      throw ConfigError("LOG_LEVEL: must be debug, info, warn or error, got '" + *v + "'");
    c.log_level = *v;
  }
  if (auto v = get("DATA_DIR")) c.data_dir = *v;
  if (auto v = get("METADATA_BACKEND")) {
    if (*v != "sqlite" && *v != "dynamodb")
      throw ConfigError("METADATA_BACKEND: must be sqlite or dynamodb, got '" + *v + "'");
    c.metadata_backend = *v;
  }
  if (auto v = get("OBJECT_BACKEND")) {
    if (*v != "fs" && *v != "s3")
      throw ConfigError("OBJECT_BACKEND: must be fs or s3, got '" + *v + "'");
    c.object_backend = *v;
  }
  if (auto v = get("CLOUDFRONT_DOMAIN")) {
    c.cdn_base_url = "https://" + *v;
    c.cdn_base_url_explicit = true;
  }
  if (auto v = get("CDN_BASE_URL")) {
    if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0)
      throw ConfigError("CDN_BASE_URL: must start with http:// or https://");
    c.cdn_base_url = *v;
    while (!c.cdn_base_url.empty() && c.cdn_base_url.back() == '/') c.cdn_base_url.pop_back();
    c.cdn_base_url_explicit = true;
  }
  if (auto v = get("UPLOAD_URL_TTL_S"))
    c.upload_url_ttl_s = parse_int("UPLOAD_URL_TTL_S", *v, 1, 7 * 86400);
  if (auto v = get("PUBLIC_BASE_URL")) {
    check_url("PUBLIC_BASE_URL", *v);
    c.public_base_url = *v;
    while (!c.public_base_url.empty() && c.public_base_url.back() == '/')
      c.public_base_url.pop_back();
  }
  if (auto v = get("JANITOR_INTERVAL_S"))
    c.janitor_interval_s = int(parse_int("JANITOR_INTERVAL_S", *v, 1, 7 * 86400));
  if (auto v = get("CLOUDFRONT_DISTRIBUTION_ID")) {
    if (v->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != std::string::npos)
      throw ConfigError("CLOUDFRONT_DISTRIBUTION_ID: '" + *v + "' is not a distribution id");
    c.cloudfront_distribution_id = *v;
  }
  if (auto v = get("CDN_PURGE_URL")) {
    check_url("CDN_PURGE_URL", *v);
    c.cdn_purge_url = *v;
  }
  c.webhooks = load_webhook_config(env);
  if (auto v = get("CDN_PURGE_RETRY_BASE_MS"))
    c.cdn_purge_retry_base_ms = int(parse_int("CDN_PURGE_RETRY_BASE_MS", *v, 1, 600000));
  load_aws(c, get);
  if (auto v = get("JWT_SECRET")) c.jwt_secret = *v;
  if (auto v = get("JWT_JWKS_URL")) {
    if (v->rfind("https://", 0) != 0 && v->rfind("http://", 0) != 0)
      throw ConfigError("JWT_JWKS_URL: must be an http(s) URL");
    c.jwt_jwks_url = *v;
  }
  if (auto v = get("JWT_JWKS_FILE")) c.jwt_jwks_file = *v;
  if (auto v = get("JWT_ISSUER")) c.jwt_issuer = *v;
  if (auto v = get("JWT_AUDIENCE")) c.jwt_audience = split_list(*v);
  if (auto v = get("CURSOR_SECRET")) c.cursor_secret = *v;
  if (auto v = get("MAX_FILE_SIZE"))
    c.max_file_size = parse_int("MAX_FILE_SIZE", *v, 1024, 100LL * 1024 * 1024);
  if (auto v = get("PROCESSING_TIMEOUT_MS"))
    c.processing_timeout_ms = int(parse_int("PROCESSING_TIMEOUT_MS", *v, 0, 600'000));
  if (auto v = get("IMAGE_MAX_METADATA_BYTES"))
    c.image_max_metadata_bytes = parse_int("IMAGE_MAX_METADATA_BYTES", *v, 4096, 1LL << 30);
  if (auto v = get("IMAGE_MAX_ICC_BYTES"))
    c.image_max_icc_bytes = parse_int("IMAGE_MAX_ICC_BYTES", *v, 4096, 1LL << 30);
  if (auto v = get("HEIF_MAX_PIXELS"))
    c.heif_max_pixels = parse_int("HEIF_MAX_PIXELS", *v, 10'000, 64'000'000);
  if (auto v = get("IMAGE_MAX_CHUNKS"))
    c.image_max_chunks = parse_int("IMAGE_MAX_CHUNKS", *v, 16, 10'000'000);
  if (auto v = get("JPEG_MAX_SCANS"))
    c.jpeg_max_scans = parse_int("JPEG_MAX_SCANS", *v, 1, 100'000);
  if (auto v = get("WEBP_MAX_FRAMES"))
    c.webp_max_frames = parse_int("WEBP_MAX_FRAMES", *v, 1, 10'000'000);
  if (auto v = get("SUPPORTED_FORMATS")) {
    c.supported_formats.clear();
    for (auto f : split_list(*v)) {
      std::transform(f.begin(), f.end(), f.begin(), ::tolower);
      if (f == "jpg") f = "jpeg";
      if (f == "heif") f = "heic";
      if (f != "jpeg" && f != "png" && f != "webp" && f != "heic" && f != "avif")
        throw ConfigError("SUPPORTED_FORMATS: '" + f +
                          "' is not one of jpeg, png, webp, heic, avif");
      if (std::find(c.supported_formats.begin(), c.supported_formats.end(), f) ==
          c.supported_formats.end())
        c.supported_formats.push_back(f);
    }
    if (c.supported_formats.empty()) throw ConfigError("SUPPORTED_FORMATS: must not be empty");
  }
  if (auto v = get("VARIANT_WIDTHS")) {
    c.variant_widths.clear();
    for (const auto& w : split_list(*v)) {
      int width = int(parse_int("VARIANT_WIDTHS", w, 16, 2048));
      if (std::find(c.variant_widths.begin(), c.variant_widths.end(), width) ==
          c.variant_widths.end())
        c.variant_widths.push_back(width);
    }
    std::sort(c.variant_widths.begin(), c.variant_widths.end());
    if (c.variant_widths.empty() || c.variant_widths.size() > 12)
      throw ConfigError("VARIANT_WIDTHS: give 1 to 12 widths between 16 and 2048");
  }
  if (auto v = get("VARIANT_FORMATS")) {
    c.variant_formats.clear();
    for (auto f : split_list(*v)) {
      std::transform(f.begin(), f.end(), f.begin(), ::tolower);
      if (f == "none" && split_list(*v).size() == 1) break;  // variants off
      if (f != "avif" && f != "webp")
        throw ConfigError("VARIANT_FORMATS: '" + f + "' is not one of avif, webp (or none)");
      if (std::find(c.variant_formats.begin(), c.variant_formats.end(), f) ==
          c.variant_formats.end())
        c.variant_formats.push_back(f);
    }
  }
  if (auto v = get("MAX_PAGE_SIZE")) c.max_page_size = int(parse_int("MAX_PAGE_SIZE", *v, 1, 1000));
  if (auto v = get("FSCK_INTERVAL_S"))
    c.fsck_interval_s = int(parse_int("FSCK_INTERVAL_S", *v, 0, 7 * 86400));
  if (auto v = get("FSCK_GRACE_S"))
    c.fsck_grace_s = int(parse_int("FSCK_GRACE_S", *v, 0, 30 * 86400));
  if (auto v = get("ERASE_BUDGET_MS"))
    c.erase_budget_ms = parse_int("ERASE_BUDGET_MS", *v, 1, 600'000);
  if (auto v = get("IMPORT_KEY_PREFIXES")) {
    for (const auto& p : split_list(*v)) {
      // The same rules as the keys themselves (domain::validate_import_key), with {userId}.
      std::string probe = p;
      for (auto at = probe.find("{userId}"); at != std::string::npos; at = probe.find("{userId}"))
        probe.replace(at, 8, "u");
      bool bad = probe.front() == '/' || probe.find_first_of("{}\\") != std::string::npos ||
                 probe.substr(0, probe.find('/')).find(':') != std::string::npos ||
                 probe.find("//") != std::string::npos || probe.size() > 500;
      for (unsigned char ch : probe) bad = bad || ch < 0x20 || ch == 0x7F;
      for (std::size_t start = 0; !bad;) {
        auto slash = probe.find('/', start);
        auto seg = probe.substr(start, slash == std::string::npos ? slash : slash - start);
        bad = seg == "." || seg == "..";
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
      if (bad || probe.rfind("temp/", 0) == 0)
        throw ConfigError(
            "IMPORT_KEY_PREFIXES: '" + p +
            "' is not a key prefix (relative, no scheme, no '.'/'..' segments, no '//', "
            "'\\' or control bytes, not temp/; {userId} is the only placeholder)");
      c.import_key_prefixes.push_back(p);
    }
  }
  if (auto v = get("EXIF_KEEP_GPS")) c.exif_keep_gps = parse_bool("EXIF_KEEP_GPS", *v);
  if (auto v = get("RATE_LIMITS_ENABLED"))
    c.rate_limits.enabled = parse_bool("RATE_LIMITS_ENABLED", *v);
  for (auto [name, field] :
       {std::pair{"RATE_LIMIT_UPLOADS_PER_MINUTE", &c.rate_limits.uploads_per_minute},
        std::pair{"RATE_LIMIT_UPLOADS_PER_HOUR", &c.rate_limits.uploads_per_hour},
        std::pair{"RATE_LIMIT_UPDATES_PER_MINUTE", &c.rate_limits.updates_per_minute},
        std::pair{"RATE_LIMIT_DELETES_PER_MINUTE", &c.rate_limits.deletes_per_minute},
        std::pair{"RATE_LIMIT_READS_PER_SECOND", &c.rate_limits.reads_per_second}})
    if (auto v = get(name)) *field = parse_int(name, *v, 1, 1'000'000'000);
  if (auto v = get("CORS_ALLOWED_ORIGINS")) {
    c.cors_allowed_origins = split_list(*v);
    for (const auto& o : c.cors_allowed_origins) check_origin(o);
    c.cors_explicit = true;
  }
  // In-process TLS: both files or neither (they are loaded, and checked, by the listener).
  if (auto v = get("TLS_CERT_FILE")) c.tls_cert_file = *v;
  if (auto v = get("TLS_KEY_FILE")) c.tls_key_file = *v;
  if (c.tls_cert_file.empty() != c.tls_key_file.empty())
    throw ConfigError(std::string(c.tls_cert_file.empty() ? "TLS_CERT_FILE" : "TLS_KEY_FILE") +
                      ": required with " +
                      (c.tls_cert_file.empty() ? "TLS_KEY_FILE" : "TLS_CERT_FILE"));
  if (auto v = get("NOTIFY_SOCKET")) c.notify_socket = *v;
  if (auto v = get("TLS_HANDSHAKE_TIMEOUT_S"))
    c.tls_handshake_timeout_s = int(parse_int("TLS_HANDSHAKE_TIMEOUT_S", *v, 1, 600));
  if (auto v = get("REDIS_ENDPOINT")) {
    try {
      cache::parse_redis_endpoint(*v);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("REDIS_ENDPOINT: ") + e.what());
    }
    c.redis_endpoint = *v;
  }
  if (auto v = get("REDIS_TIMEOUT_MS"))
    c.redis_timeout_ms = int(parse_int("REDIS_TIMEOUT_MS", *v, 1, 60000));
  if (auto v = get("REDIS_BREAKER_MS"))
    c.redis_breaker_ms = int(parse_int("REDIS_BREAKER_MS", *v, 0, 600000));

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (auto v = get("IO_THREADS")) c.io_threads = int(parse_int("IO_THREADS", *v, 1, 64));
  if (auto v = get("WORKER_THREADS"))
    c.worker_threads = int(parse_int("WORKER_THREADS", *v, 1, 1024));
  if (auto v = get("PROCESSING_THREADS"))
    c.processing_threads = int(parse_int("PROCESSING_THREADS", *v, 1, 256));
  if (c.processing_threads == 0) c.processing_threads = int(cores);
  if (auto v = get("PROCESSING_QUEUE"))
    c.processing_queue = int(parse_int("PROCESSING_QUEUE", *v, 0, 10000));
  if (auto v = get("MAX_CONNECTIONS"))
    c.max_connections = int(parse_int("MAX_CONNECTIONS", *v, 1, 100000));
  if (auto v = get("MAX_CONNECTIONS_PER_CLIENT"))
    c.max_connections_per_client = int(parse_int("MAX_CONNECTIONS_PER_CLIENT", *v, 0, 100000));
  if (auto v = get("PROBE_CONNECTIONS"))
    c.probe_connections = int(parse_int("PROBE_CONNECTIONS", *v, 1, 10000));
  if (auto v = get("UPLOAD_MEMORY_BUDGET"))
    c.upload_memory_budget = parse_int("UPLOAD_MEMORY_BUDGET", *v, 1, 1LL << 40);
  // One upload of the largest size must fit, or no upload could ever be admitted.
  if (c.upload_memory_budget < c.max_file_size + 1024 * 1024)
    throw ConfigError("UPLOAD_MEMORY_BUDGET: must be at least MAX_FILE_SIZE + 1 MiB (" +
                      std::to_string(c.max_file_size + 1024 * 1024) + ")");
  if (auto v = get("FILE_CACHE_BYTES"))
    c.file_cache_bytes = parse_int("FILE_CACHE_BYTES", *v, 0, 64LL * 1024 * 1024 * 1024);
  if (auto v = get("SQLITE_SYNCHRONOUS")) {
    std::string u = *v;
    std::transform(u.begin(), u.end(), u.begin(), ::toupper);
    if (u != "NORMAL" && u != "FULL")
      throw ConfigError("SQLITE_SYNCHRONOUS: must be normal or full, got '" + *v + "'");
    c.sqlite_synchronous = u;
  }
  if (auto v = get("WEBP_EFFORT")) c.webp_effort = int(parse_int("WEBP_EFFORT", *v, 0, 6));
  if (auto v = get("HEADER_TIMEOUT_S"))
    c.header_timeout_s = int(parse_int("HEADER_TIMEOUT_S", *v, 1, 3600));
  if (auto v = get("BODY_TIMEOUT_S"))
    c.body_timeout_s = int(parse_int("BODY_TIMEOUT_S", *v, 1, 3600));
  if (auto v = get("BODY_IDLE_TIMEOUT_S"))
    c.body_idle_timeout_s = int(parse_int("BODY_IDLE_TIMEOUT_S", *v, 1, 3600));
  if (auto v = get("MIN_BODY_RATE")) c.min_body_rate = parse_int("MIN_BODY_RATE", *v, 0, 1LL << 40);
  if (auto v = get("IDLE_TIMEOUT_S"))
    c.idle_timeout_s = int(parse_int("IDLE_TIMEOUT_S", *v, 1, 3600));
  if (auto v = get("WRITE_TIMEOUT_S"))
    c.write_timeout_s = int(parse_int("WRITE_TIMEOUT_S", *v, 1, 3600));
  if (auto v = get("DRAIN_TIMEOUT_S"))
    c.drain_timeout_s = int(parse_int("DRAIN_TIMEOUT_S", *v, 0, 3600));

  if (!c.is_dev() && c.jwt_secret.empty() && c.jwt_jwks_url.empty() && c.jwt_jwks_file.empty())
    throw ConfigError(
        "JWT_SECRET: no auth configured; set JWT_SECRET, JWT_JWKS_URL or "
        "JWT_JWKS_FILE (only STAGE=dev generates a development secret)");
  if (!c.jwt_secret.empty() && c.jwt_secret.size() < 32 && !c.is_dev())
    throw ConfigError("JWT_SECRET: must be at least 32 bytes outside dev");
  return c;
}

std::vector<std::string> effective_cors_origins(const Config& c) {
  if (c.cors_explicit) return c.cors_allowed_origins;
  std::vector<std::string> out = {"https://lego-moc.com", "https://*.lego-moc.com"};
  if (c.is_dev()) out.push_back("http://localhost:3002");
  return out;
}

}  // namespace isvc::app
