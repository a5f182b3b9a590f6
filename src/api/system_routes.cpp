// GET /health, GET /metrics (JSON summary, SPEC §9), GET /api-docs, /swagger, the gallery at /
// and POST /dev/token.
#include <cctype>
#include <chrono>

#include "api/http_app.h"
#include "api/json_writer.h"
#include "api/render.h"
#include "base/time_format.h"

namespace isvc::api {

http::Response HttpApp::health() {
  bool critical_down = false, other_down = false;
  JsonWriter w;
  w.begin_object();
  std::vector<std::pair<std::string, bool>> seen;
  for (const auto& check : d_.health) {
    bool up = check.backend->healthy();
    (check.critical ? critical_down : other_down) |= !up;
    seen.emplace_back(check.backend->name(), up);
  }
  // Redis is a cache, the CDN an accelerator, webhooks a notification: without them the service
  // still serves (degraded), never unhealthy.
  const char* status = critical_down ? "unhealthy" : other_down ? "degraded" : "healthy";
  w.field("status", status);
  w.field("timestamp", std::string_view(base::format_iso8601_ms(d_.clock.now_ms())));
  w.key("services").begin_object();
  for (const auto& [name, up] : seen) w.field(name, up ? "up" : "down");
  // Every backend this instance does not use (SPEC §12: reported, and not degrading).
  for (const char* name : {"sqlite", "filesystem", "dynamodb", "s3", "redis", "cdn", "webhooks"}) {
    bool used = false;
    for (const auto& [n, up] : seen) used |= n == name;
    if (!used) w.field(name, "disabled");
  }
  w.end_object();
  w.end_object();
  return json_response(critical_down ? 503 : 200, w.take());
}

http::Response HttpApp::metrics_summary(const http::Request& req) {
  // Prometheus scrapes with Accept: application/openmetrics-text…, text/plain;version=0.0.4…
  if (auto accept = req.header("Accept");
      accept && (accept->find("text/plain") != std::string_view::npos ||
                 accept->find("openmetrics") != std::string_view::npos))
    return metrics_prometheus();
  int64_t now = d_.clock.now_ms();
  int64_t start_of_day = now - now % 86400000;
  auto stats = d_.maintenance.stats(start_of_day);
  double avg = d_.metrics.upload_latency.mean_ms();
  double p95 = d_.metrics.upload_latency.percentile_ms(95);
  JsonWriter w;
  w.begin_object();
  w.field("totalImages", stats.total_images);
  w.field("imagesUploadedToday", stats.uploaded_since);
  w.field("totalStorageUsed", std::string_view(human_bytes(stats.total_bytes)));
  w.field("totalStorageBytes", stats.total_bytes);
  w.field("averageUploadLatency", std::string_view(std::to_string(int64_t(avg + 0.5)) + "ms"));
  w.key("averageUploadLatencyMs").value_double(avg, 1);
  w.key("p95UploadLatencyMs").value_double(p95, 1);
  w.key("cacheHitRate").value_double(d_.metrics.file_cache_hit_rate(), 4);
  w.field("uploadsSucceeded", static_cast<int64_t>(d_.metrics.uploads_ok.load()));
  w.field("uploadsFailed", static_cast<int64_t>(d_.metrics.uploads_failed.load()));
  w.field("requestsTotal", static_cast<int64_t>(d_.metrics.requests_total.load()));
  w.field("rateLimitedRequests", static_cast<int64_t>(d_.metrics.rate_limited.load()));
  w.field("idempotentReplays", static_cast<int64_t>(d_.metrics.idempotent_replays.load()));
  auto total = [](const obs::CounterFamily& f) {
    uint64_t n = 0;
    for (const auto& [labels, v] : f.snapshot()) n += v;
    return static_cast<int64_t>(n);
  };
  w.field("variantsGenerated", total(d_.metrics.variant_generations));
  w.field("variantBytesServed", total(d_.metrics.variant_bytes));
  // The periodic consistency check: null until it has run once.
  auto gauge = [&](const char* name, int64_t v) {
    if (v < 0)
      w.key(name).null();
    else
      w.field(name, v);
  };
  gauge("orphanedObjects", d_.metrics.orphaned_objects.load());
  gauge("danglingRecords", d_.metrics.dangling_records.load());
  w.end_object();
  return json_response(200, w.take());
}

http::Response HttpApp::metrics_prometheus() {
  const auto& m = d_.metrics;
  auto stats = d_.maintenance.stats(0);
  obs::TextWriter w;
  w.counter(m.http_requests);
  w.histogram(m.http_duration);
  w.counter(m.upload_outcomes);
  w.histogram(m.processing_seconds);
  w.histogram(m.store_duration);
  w.counter(m.store_errors);
  w.family("isvc_cache_requests_total",
           "Cache lookups by layer (file: the /files hot-object cache; metadata: Redis) and "
           "result.",
           "counter", {"layer", "result"},
           {{{"file", "hit"}, double(m.file_cache_hits.load())},
            {{"file", "miss"}, double(m.file_cache_misses.load())},
            {{"metadata", "hit"}, double(m.metadata_cache_hits.load())},
            {{"metadata", "miss"}, double(m.metadata_cache_misses.load())}});
  w.counter(m.refused_requests);
  w.counter(m.variant_generations);
  w.counter(m.variant_requests);
  w.counter(m.variant_bytes);
  for (const auto* source : d_.metric_sources) source->write_metrics(w);
  if (d_.admission) {
    w.gauge("isvc_upload_slots_in_use", "Upload slots held (receiving, queued or processing).",
            double(d_.admission->slots_in_use()));
    w.gauge("isvc_body_memory_bytes", "Request-body bytes reserved against UPLOAD_MEMORY_BUDGET.",
            double(d_.admission->bytes_in_use()));
  }
  w.counter("isvc_log_lines_dropped_total",
            "Log lines dropped because stdout was not read fast enough (the log queue was full).",
            double(d_.log.dropped()));
  w.counter("isvc_rate_limited_requests_total", "Requests refused with 429.",
            double(m.rate_limited.load()));
  w.counter("isvc_idempotent_replays_total",
            "Uploads answered with the first result of an earlier request (Idempotency-Key).",
            double(m.idempotent_replays.load()));
  if (d_.pool) {
    w.gauge("isvc_processing_queue_depth", "Uploads waiting for a processing thread.",
            double(d_.pool->queued()));
    w.gauge("isvc_processing_threads", "Image processing threads.", double(d_.pool->threads()));
  }
  if (auto n = m.orphaned_objects.load(); n >= 0)
    w.gauge("isvc_orphaned_objects",
            "Objects without metadata older than the grace period, at the last periodic check.",
            double(n));
  if (auto n = m.dangling_records.load(); n >= 0)
    w.gauge("isvc_dangling_records", "Records whose files are missing, at the last periodic check.",
            double(n));
  w.gauge("isvc_images", "Active images in the metadata store.", double(stats.total_images));
  w.gauge("isvc_stored_bytes", "Bytes of main images and thumbnails of active images.",
          double(stats.total_bytes));
  w.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch.",
          double(m.started_at_s));
  http::Response res;
  res.status = 200;
  res.body = w.take();
  res.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return res;
}

namespace {
// A text file embedded in the binary (Swagger UI, the gallery), served as is.
http::Response embedded_file(std::string_view body, const char* content_type,
                             const char* cache_control) {
  http::Response res;
  res.status = 200;
  res.body = std::string(body);
  res.set("Content-Type", content_type);
  res.set("Cache-Control", cache_control);
  return res;
}

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJs = "application/javascript; charset=utf-8";
constexpr const char* kCss = "text/css; charset=utf-8";
}  // namespace

http::Response HttpApp::swagger(const std::string& asset) const {
  if (s_.swagger_ui_js.empty())
    throw domain::Error(domain::ErrorCode::NotFound, "Swagger UI is not in this build");
  constexpr const char* kAssetCache = "public, max-age=3600";
  if (asset.empty()) {
    // Relative URLs, so the page works behind a path prefix too.
    return embedded_file(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>image-service API</title>\n"
        "<link rel=\"stylesheet\" href=\"swagger/swagger-ui.css\">\n</head>\n<body>\n"
        "<div id=\"swagger-ui\"></div>\n<script src=\"swagger/swagger-ui-bundle.js\"></script>\n"
        "<script src=\"swagger/init.js\"></script>\n</body>\n</html>\n",
        kHtml, "no-cache");
  }
  if (asset == "swagger-ui-bundle.js") return embedded_file(s_.swagger_ui_js, kJs, kAssetCache);
  if (asset == "swagger-ui.css") return embedded_file(s_.swagger_ui_css, kCss, kAssetCache);
  if (asset == "init.js")
    return embedded_file(
        "window.onload = function () {\n"
        "  window.ui = SwaggerUIBundle({ url: 'api-docs', dom_id: '#swagger-ui', deepLinking: "
        "true,\n"
        "    presets: [SwaggerUIBundle.presets.apis] });\n};\n",
        kJs, kAssetCache);
  throw domain::Error(domain::ErrorCode::NotFound, "no such Swagger UI file: " + asset);
}

http::Response HttpApp::gallery(const std::string& asset) const {
  if (s_.gallery_html.empty())
    throw domain::Error(domain::ErrorCode::NotFound, "the gallery is not in this build");
  // Revalidated on every load: the files are small and change with the binary.
  if (asset == "app.js") return embedded_file(s_.gallery_js, kJs, "no-cache");
  if (asset == "app.css") return embedded_file(s_.gallery_css, kCss, "no-cache");
  if (!asset.empty())
    throw domain::Error(domain::ErrorCode::NotFound, "no such gallery file: " + asset);
  // The page tells its script whether the one-click development sign-in is offered.
  std::string page(s_.gallery_html);
  static constexpr std::string_view marker = "@DEV_TOKEN@";
  if (auto at = page.find(marker); at != std::string::npos)
    page.replace(at, marker.size(), s_.dev_token ? "on" : "off");
  auto res = embedded_file(page, kHtml, "no-cache");
  // Scripts and styles only from this origin; thumbnails from here or the CDN; API calls only
  // to this origin.
  std::string img_src = "'self' blob: data:";
  if (auto scheme_end = s_.cdn_base_url.find("://"); scheme_end != std::string::npos) {
    auto path = s_.cdn_base_url.find('/', scheme_end + 3);
    img_src += " " + s_.cdn_base_url.substr(0, path);
  }
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img_src +
              "; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  return res;
}

namespace {
bool loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("::ffff:127.", 0) == 0;
}
}  // namespace

http::Response HttpApp::dev_token(const http::Request& req) const {
  using domain::Error;
  using domain::ErrorCode;
  if (!s_.dev_token) throw Error(ErrorCode::NotFound, "no such route: /dev/token");
  // Behind a reverse proxy on the same host every caller would look local: a forwarded request
  // is not a local one.
  if (!loopback(req.remote_address) || req.header("X-Forwarded-For") || req.header("Forwarded"))
    throw Error(ErrorCode::NotAuthorized,
                "development tokens are only signed for callers on the service's own machine");
  auto body = parse_json_object(req.body, 4);
  const auto* user = body.if_contains("userId");
  std::string id = user && user->is_string() ? std::string(user->get_string()) : "";
  bool ok = !id.empty() && id.size() <= 128;
  for (char c : id)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok || body.size() != 1)
    throw Error(ErrorCode::ValidationFailed,
                "body must be {\"userId\": 1-128 characters of A-Z a-z 0-9 . _ -}",
                {{"field", "userId"}});
  JsonWriter w;
  w.begin_object();
  w.field("token", std::string_view(s_.dev_token(id)));
  w.field("userId", std::string_view(id));
  w.field("expiresIn", int64_t{12 * 3600});
  w.end_object();
  return json_response(200, w.take());
}

http::Response HttpApp::api_docs() const {
  http::Response res;
  res.status = 200;
  res.body = s_.openapi_yaml;
  res.set("Content-Type", "application/yaml");
  res.set("Cache-Control", "public, max-age=300");
  return res;
}

}  // namespace isvc::api
