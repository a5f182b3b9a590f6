#include "api/http_app.h"

#include <boost/json/object.hpp>

#include "api/render.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

namespace {
// JSON on POST /images is a legacy import, not an upload.
bool is_json(const http::Request& head) {
  auto ct = head.header("Content-Type");
  return ct && ct->substr(0, 16) == "application/json";
}

// Which per-user limit a request counts against (SPEC §4). Starting a direct upload counts as
// the upload; completing it does not count again. The service's JSON import is not an upload.
domain::RateClass rate_class(const http::Request& req) {
  const std::string& p = req.path;
  const std::string& m = req.method;
  using domain::RateClass;
  if (p == "/images") {
    if (m == "POST") return is_json(req) ? RateClass::None : RateClass::Upload;
    if (m == "GET") return RateClass::Read;
    return RateClass::None;
  }
  if (p == "/images/uploads") return m == "POST" ? RateClass::Upload : RateClass::None;
  if (p.rfind("/images/uploads/", 0) == 0) return RateClass::None;
  if (p.rfind("/images/", 0) == 0) {
    if (m == "GET") return RateClass::Read;
    if (m == "PATCH") return RateClass::Update;
    if (m == "DELETE") return RateClass::Delete;
  }
  if (p.rfind("/users/", 0) == 0 && m == "DELETE") return RateClass::Delete;
  return RateClass::None;
}

// The route template of a request, for metrics labels (bounded cardinality: ids and keys never
// become label values).
std::string route_template(const http::Request& req) {
  const std::string& p = req.path;
  if (p == "/images" || p == "/images/uploads" || p == "/health" || p == "/metrics" ||
      p == "/api-docs" || p == "/" || p == "/swagger" || p == "/dev/token")
    return p;
  if (p.rfind("/gallery/", 0) == 0) return "/gallery/{asset}";
  if (p.rfind("/swagger/", 0) == 0) return "/swagger/{asset}";
  if (p.rfind("/images/uploads/", 0) == 0) return "/images/uploads/{uploadId}/complete";
  if (p.rfind("/images/", 0) == 0) return "/images/{id}";
  if (p.rfind("/uploads/", 0) == 0) return "/uploads/{uploadId}";
  if (p.rfind("/users/", 0) == 0) return "/users/{userId}/images";
  if (p.rfind("/files/", 0) == 0) return "/files/{key}";
  return "other";
}

// The caller authenticated by rate_limit() for the request being handled on this thread, so the
// route does not verify the token a second time.
thread_local const http::Request* memo_request = nullptr;
thread_local domain::Caller memo_caller;
}  // namespace

HttpApp::HttpApp(ApiDeps deps, ApiSettings settings)
    : d_(deps), s_(std::move(settings)), cors_(s_.cors_origins) {}

std::size_t HttpApp::body_limit(const http::Request& head) const {
  // Uploads may carry the file plus form fields and multipart framing; everything else is JSON.
  if (head.method == "POST" && head.path == "/images" && !is_json(head))
    return static_cast<std::size_t>(s_.max_file_size) + 1024 * 1024;
  if (head.method == "PUT" && head.path.rfind("/uploads/", 0) == 0)
    return static_cast<std::size_t>(s_.max_file_size);
  if (head.method == "GET" || head.method == "HEAD" || head.method == "DELETE" ||
      head.method == "OPTIONS")
    return 64 * 1024;
  return s_.json_body_limit;
}

domain::Caller HttpApp::authenticate(const http::Request& req) const {
  if (memo_request == &req) return memo_caller;
  auto h = req.header("Authorization");
  if (!h) throw Error(ErrorCode::Unauthorized, "missing bearer token");
  std::string_view v = *h;
  if (v.size() < 7 || !http::iequals(v.substr(0, 7), "Bearer "))
    throw Error(ErrorCode::Unauthorized, "the Authorization header must be 'Bearer <token>'");
  auto token = v.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto p = d_.verifier.verify(token);
  domain::Caller c;
  c.user_id = p.subject;
  c.role = p.role == auth::Role::Admin     ? domain::CallerRole::Admin
           : p.role == auth::Role::Service ? domain::CallerRole::Service
                                           : domain::CallerRole::User;
  return c;
}

http::Response HttpApp::handle(http::Request& req) {
  http::Response res;
  http::HeaderList limit_headers;
  try {
    auto refused = rate_limit(req, limit_headers);
    res = refused ? std::move(*refused) : route(req);
  } catch (const Error& e) {
    res = error_response(req, e);
  } catch (const std::exception& e) {
    d_.log.error("unhandled_exception", {{"requestId", req.request_id}, {"what", e.what()}});
    res = error_response(req, Error(ErrorCode::Internal, "internal error"));
  }
  memo_request = nullptr;
  for (auto& [k, v] : limit_headers) res.set(k, v);
  finish(req, res);
  return res;
}

std::optional<http::Response> HttpApp::rate_limit(const http::Request& req,
                                                  http::HeaderList& headers) {
  if (!d_.limiter || !s_.rate_limits.enabled) return std::nullopt;
  auto cls = rate_class(req);
  if (cls == domain::RateClass::None) return std::nullopt;
  domain::Caller caller;
  try {
    caller = authenticate(req);
  } catch (const Error&) {
    return std::nullopt;  // the route answers 401 itself
  }
  memo_request = &req;
  memo_caller = caller;
  if (caller.role == domain::CallerRole::Service) return std::nullopt;  // service-to-service
  auto d = d_.limiter->take(caller.user_id + ":" + domain::rate_class_name(cls),
                            s_.rate_limits.windows(cls), d_.clock.now_ms());
  headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  headers.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_epoch_s));
  if (d.allowed) return std::nullopt;
  d_.metrics.rate_limited.fetch_add(1);
  Error e(ErrorCode::RateLimitExceeded,
          std::string("too many ") + domain::rate_class_name(cls) + " requests; retry in " +
              std::to_string(d.retry_after_s) + " s",
          {{"limit", std::to_string(d.limit)}});
  e.retry_after_s = int(d.retry_after_s);
  return error_response(req, e);
}

http::Response HttpApp::route(http::Request& req) {
  const std::string& p = req.path;
  const std::string& m = req.method;
  if (m == "OPTIONS") return cors_.preflight(req);

  auto method_not_allowed = [&](const char* allow) {
    Error e(ErrorCode::MethodNotAllowed, "method " + m + " is not allowed on " + p);
    auto res = error_response(req, e);
    res.set("Allow", allow);
    return res;
  };

  if (p == "/images") {
    if (m == "POST") return upload(req);
    if (m == "GET") return list_images(req);
    return method_not_allowed("GET, POST, OPTIONS");
  }
  if (p == "/images/uploads") {
    if (m == "POST") return start_upload(req);
    return method_not_allowed("POST, OPTIONS");
  }
  if (p.rfind("/images/uploads/", 0) == 0) {
    std::string rest = p.substr(16);
    auto slash = rest.find('/');
    if (slash == std::string::npos || rest.substr(slash) != "/complete")
      throw Error(ErrorCode::NotFound, "no such route: " + p);
    if (m == "POST") return complete_upload(req, rest.substr(0, slash));
    return method_not_allowed("POST, OPTIONS");
  }
  if (p.rfind("/uploads/", 0) == 0 && d_.service_urls) {
    std::string id = p.substr(9);
    if (id.find('/') != std::string::npos) throw Error(ErrorCode::NotFound, "no such route: " + p);
    if (m == "PUT") return receive_upload(req, id);
    return method_not_allowed("PUT");
  }
  if (p.rfind("/images/", 0) == 0) {
    std::string id = p.substr(8);
    if (id.find('/') != std::string::npos) throw Error(ErrorCode::NotFound, "no such route: " + p);
    if (m == "GET") return get_image(req, id);
    if (m == "PATCH") return patch_image(req, id);
    if (m == "DELETE") return delete_image(req, id);
    return method_not_allowed("GET, PATCH, DELETE, OPTIONS");
  }
  if (p.rfind("/users/", 0) == 0) {
    std::string rest = p.substr(7);
    auto slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || rest.substr(slash) != "/images")
      throw Error(ErrorCode::NotFound, "no such route: " + p);
    if (m == "DELETE") return erase_user(req, rest.substr(0, slash));
    return method_not_allowed("DELETE, OPTIONS");
  }
  if (p.rfind("/files/", 0) == 0) {
    if (m == "GET" || m == "HEAD") return serve_file(req, p.substr(7));
    return method_not_allowed("GET, HEAD, OPTIONS");
  }
  if (p == "/health") {
    if (m == "GET" || m == "HEAD") return health();
    return method_not_allowed("GET, HEAD");
  }
  if (p == "/metrics") {
    if (m == "GET") return metrics_summary(req);
    return method_not_allowed("GET");
  }
  if (p == "/swagger" || p.rfind("/swagger/", 0) == 0) {
    if (m == "GET" || m == "HEAD") return swagger(p == "/swagger" ? "" : p.substr(9));
    return method_not_allowed("GET, HEAD");
  }
  if (p == "/api-docs") {
    if (m == "GET") return api_docs();
    return method_not_allowed("GET");
  }
  if (p == "/" || p.rfind("/gallery/", 0) == 0) {
    if (m == "GET" || m == "HEAD") return gallery(p == "/" ? "" : p.substr(9));
    return method_not_allowed("GET, HEAD");
  }
  if (p == "/dev/token") {
    if (m == "POST") return dev_token(req);
    return method_not_allowed("POST");
  }
  throw Error(ErrorCode::NotFound, "no such route: " + p);
}

http::Response HttpApp::error_response(const http::Request& req, const Error& err) const {
  http::Response res;
  res.status = domain::http_status(err.code());
  res.body = render_error(err, req.request_id);
  res.set("Content-Type", "application/json");
  if (err.retry_after_s) res.set("Retry-After", std::to_string(*err.retry_after_s));
  if (err.code() == ErrorCode::Unauthorized) res.set("WWW-Authenticate", "Bearer");
  res.log_fields.emplace_back("errorCode", domain::code_name(err.code()));
  if (res.status >= 500) d_.metrics.responses_5xx.fetch_add(1);
  return res;
}

http::Response HttpApp::transport_error(const http::Request& head, const Error& err) {
  // An oversize body on the upload route is the upload's own FILE_TOO_LARGE (SPEC §2).
  http::Response res;
  bool upload_body = (head.method == "POST" && head.path == "/images" && !is_json(head)) ||
                     (head.method == "PUT" && head.path.rfind("/uploads/", 0) == 0);
  if (err.code() == ErrorCode::PayloadTooLarge && upload_body) {
    res = error_response(
        head,
        Error(ErrorCode::FileTooLarge,
              "file exceeds the maximum size of " + std::to_string(s_.max_file_size) + " bytes",
              {{"field", "file"}, {"maxBytes", std::to_string(s_.max_file_size)}}));
  } else {
    res = error_response(head, err);
  }
  res.close_connection = true;
  finish(head, res);
  return res;
}

void HttpApp::finish(const http::Request& req, http::Response& res) const {
  res.set("X-Request-Id", req.request_id);
  res.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "strict-origin-when-cross-origin");
  if (!res.header("Cache-Control")) res.set("Cache-Control", "no-store");
  cors_.decorate(req, res);
  // HEAD gets the headers of the GET, never a body.
  if (req.method == "HEAD" && !res.head_content_length) {
    res.head_content_length = res.payload().size();
    res.body.clear();
    res.shared_body.reset();
  }
}

void HttpApp::on_response(const http::Request& req, const http::Response& res,
                          int64_t duration_us) {
  d_.metrics.requests_total.fetch_add(1);
  auto route = route_template(req);
  bool known_method = req.method == "GET" || req.method == "HEAD" || req.method == "POST" ||
                      req.method == "PATCH" || req.method == "DELETE" || req.method == "OPTIONS" ||
                      req.method == "PUT";
  std::string method = known_method ? req.method : "other";
  d_.metrics.http_requests.inc({route, method, std::to_string(res.status)});
  d_.metrics.http_duration.observe({route, method}, double(duration_us) / 1e6);
  bool upload = req.method == "POST" && ((route == "/images" && !is_json(req)) ||
                                         route == "/images/uploads/{uploadId}/complete");
  if (upload) {
    std::string outcome = res.status == 201 ? "created" : res.status == 200 ? "replayed" : "";
    for (const auto& [k, v] : res.log_fields)
      if (k == "errorCode" && outcome.empty()) outcome = v;
    if (outcome.empty()) outcome = "status_" + std::to_string(res.status);
    d_.metrics.upload_outcomes.inc({outcome});
  }
  if (!d_.log.enabled(obs::Level::Info)) return;
  boost::json::object f;
  f["requestId"] = req.request_id;
  f["method"] = req.method;
  f["path"] = req.path;
  f["status"] = res.status;
  f["durationMs"] = duration_us / 1000;  // integers: Boost.JSON prints doubles as 1.2E1
  f["durationUs"] = duration_us;
  f["bytes"] = res.head_content_length ? *res.head_content_length : res.payload().size();
  f["remote"] = req.remote_address;
  for (const auto& [k, v] : res.log_fields) f[k] = v;
  d_.log.info("http_request", std::move(f));
}

}  // namespace isvc::api
