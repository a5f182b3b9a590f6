// The HTTP face of the service: resolves each request against the route table, judges it from
// its head (authentication, rate limit, admission, declared length) before the body is read,
// calls the use case, renders results and errors (SPEC §2 error body), and adds request ids,
// security and CORS headers to every response. No business rule lives here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/cors.h"
#include "api/file_cache.h"
#include "api/render.h"
#include "api/route_table.h"
#include "auth/token_verifier.h"
#include "base/admission.h"
#include "base/bounded_pool.h"
#include "domain/direct_upload.h"
#include "domain/idempotency.h"
#include "domain/image_service.h"
#include "domain/ports/backend_health.h"
#include "domain/ports/clock.h"
#include "domain/ports/image_maintenance.h"
#include "domain/ports/object_store.h"
#include "domain/ports/upload_url_signer.h"
#include "domain/rate_limit.h"
#include "domain/variants.h"
#include "http/server.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "obs/prometheus.h"

namespace isvc::api {

struct ApiSettings {
  std::string cdn_base_url;  // no trailing slash
  std::vector<std::string> cors_origins;
  int64_t max_file_size = 10 * 1024 * 1024;
  // JSON bodies (PATCH, import, upload start): the largest legitimate one is a 5,000-character
  // description written as \u escapes, about 60 KB.
  std::size_t json_body_limit = 128 * 1024;
  std::string openapi_yaml;  // served at /api-docs
  // Swagger UI's assets for /swagger (empty: /swagger answers 404).
  std::string_view swagger_ui_js, swagger_ui_css;
  // The browser gallery's page and assets for / and /gallery/{asset} (empty page: 404).
  std::string_view gallery_html, gallery_js, gallery_css;
  // STAGE=dev with an HS256 secret: POST /dev/token signs a user token for a caller on loopback
  // (the gallery's one-click sign-in). Empty: the route answers 404.
  std::function<std::string(const std::string& user_id)> dev_token;
  domain::RateLimitSettings rate_limits;
  int64_t erase_budget_ms = 10'000;  // DELETE /users/{id}/images answers 202 after this
  // The image repository, the rate limiter and the token verifier never wait on the network
  // (SQLite, in-process buckets, a secret or a key file): reads of image records are served on
  // the I/O threads (InlineRule::LocalReads).
  bool local_reads = false;
};

// A backend /health reports: a primary store down makes the service unhealthy (503); anything
// else down, degraded.
struct HealthCheck {
  domain::BackendHealth* backend;
  bool critical;
};

struct ApiDeps {
  domain::ImageService& images;
  domain::DirectUploads& uploads;
  domain::IdempotentRequests& idempotent;
  domain::ImageMaintenance& maintenance;  // the totals of /metrics
  domain::ObjectStore& objects;
  FileCache& file_cache;
  const auth::TokenVerifier& verifier;
  obs::ServiceMetrics& metrics;
  const obs::Logger& log;
  const domain::Clock& clock;
  std::vector<HealthCheck> health;
  const domain::SignedPutVerifier* signed_puts;  // embedded mode's PUT /uploads/{id}, or null
  domain::RateLimiter* limiter = nullptr;        // null when rate limits are off
  const base::BoundedPool* pool = nullptr;       // the processing pool, for its queue depth
  base::AdmissionControl* admission = nullptr;   // upload slots and body memory; null = none
  std::vector<const obs::MetricsSource*> metric_sources = {};  // adapters' own /metrics families
  domain::Variants* variants = nullptr;  // responsive variants; null when they are off
};

class HttpApp final : public http::RequestHandler {
 public:
  HttpApp(ApiDeps deps, ApiSettings settings);

  http::Lane resolve(http::Request& head) override;
  // A hot-cache hit of GET/HEAD /files, answered on the I/O thread (api/file_routes.cpp).
  std::optional<http::Response> respond_inline(http::Request& head) override;
  http::Admission admit(http::Request& head) override;
  // Also usable without the server (tests, fuzzers): resolves and admits first when the server
  // has not.
  http::Response handle(http::Request& req) override;
  http::Response transport_error(const http::Request& head, const domain::Error& err) override;
  void on_response(const http::Request& req, const http::Response& res,
                   int64_t duration_us) override;

  void set_cdn_base_url(std::string url) { s_.cdn_base_url = std::move(url); }
  // The image object as GET /images/{id} renders it (the data of image.created/updated webhooks).
  std::string render_image_object(const domain::ImageRecord& rec) const {
    return render_image(rec, s_.cdn_base_url, variant_settings());
  }

 private:
  const domain::VariantSettings* variant_settings() const {
    return d_.variants ? &d_.variants->settings() : nullptr;
  }
  struct Context;  // per request, in http::Request::context
  void build_routes();
  static Context& context(http::Request& req);
  // The caller that admit() authenticated for this request's route.
  static const domain::Caller& caller(const http::Request& req);
  domain::Caller verify_bearer(const http::Request& req) const;
  void authorize(http::Request& req, const Route& r, Context& ctx) const;
  std::size_t body_limit(const Route& r) const;
  // The declared body length, or the route's limit for a chunked body; 0 without a body.
  static std::size_t possible_body(const http::Request& req, std::size_t limit);
  void admit_resources(const http::Request& req, const Route& r, Context& ctx);

  http::Response upload(http::Request& req);
  http::Response import_record(http::Request& req);
  http::Response get_image(http::Request& req);
  http::Response list_images(http::Request& req);
  http::Response patch_image(http::Request& req);
  http::Response delete_image(http::Request& req);
  http::Response erase_user(http::Request& req);
  // Logs an admin acting on someone else's images (SPEC §3: admin passes ownership checks,
  // audited).
  void audit_admin(const http::Request& req, const domain::Caller& caller, const std::string& owner,
                   const char* operation, const std::string& image_id) const;
  http::Response start_upload(http::Request& req);
  http::Response complete_upload(http::Request& req);
  http::Response receive_upload(http::Request& req);
  // The embedded upload URL's signature and expiry, checked from the head (403 otherwise).
  void check_upload_signature(const http::Request& req) const;
  http::Response serve_file(const http::Request& req);
  http::Response file_response(const http::Request& req, const std::string& key,
                               const domain::ObjectInfo& info,
                               std::shared_ptr<http::BodySource> body, bool hit);
  http::Response health();
  http::Response metrics_summary(const http::Request& req);
  // The Prometheus text exposition of GET /metrics (when Accept asks for text/plain or
  // OpenMetrics).
  http::Response metrics_prometheus();
  // /swagger (the page) and /swagger/{asset}.
  http::Response swagger(const std::string& asset) const;
  // / (the gallery page) and /gallery/{asset}.
  http::Response gallery(const std::string& asset) const;
  // POST /dev/token (STAGE=dev, loopback callers only).
  http::Response dev_token(const http::Request& req) const;
  http::Response api_docs() const;

  http::Response error_response(const http::Request& req, const domain::Error& err) const;
  // The answer to a request refused before its handler ran (admit() and the transport).
  http::Response refusal(const http::Request& head, const domain::Error& err);
  void finish(const http::Request& req, http::Response& res) const;
  // Takes a token of the route's rate class for its caller (SPEC §4): throws the 429; the
  // X-RateLimit-* headers go to `headers` either way.
  void rate_limit(const Route& r, const domain::Caller& caller, http::HeaderList& headers);
  // Runs `work` under the request's Idempotency-Key when it has one (SPEC §6): the response is
  // 201 with the new image, or 200 with the first request's image (a replay, or `work` found the
  // image already there).
  http::Response idempotent(const http::Request& req, const domain::Caller& caller,
                            const std::string& fingerprint,
                            const std::function<std::pair<domain::ImageRecord, bool>()>& work);

  ApiDeps d_;
  ApiSettings s_;
  CorsPolicy cors_;
  RouteTable routes_;
  int preflight_route_ = -1;
  int files_route_ = -1;
};

}  // namespace isvc::api
