#include "api/http_app.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <charconv>

#include "api/error_mapping.h"
#include "api/json_writer.h"
#include "api/render.h"
#include "http/multipart.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

struct HttpApp::Context {
  std::string allow;  // the path exists but not the method
  std::optional<domain::Caller> caller;
  std::shared_ptr<base::AdmissionControl::Ticket> ticket;
  http::HeaderList limit_headers;
  bool admitted = false;
};

namespace {

constexpr std::size_t kSmallBody = 64 * 1024;

// SPEC §12: a type other than multipart/form-data → 415; multipart/form-data without a usable
// boundary is a malformed body → 400 VALIDATION_FAILED naming `file`.
void check_multipart_type(const http::Request& req) {
  auto ct = req.header("Content-Type");
  std::string_view type = ct ? ct->substr(0, ct->find(';')) : std::string_view();
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  if (!http::iequals(type, "multipart/form-data"))
    throw Error(ErrorCode::UnsupportedMediaType,
                "upload with Content-Type multipart/form-data and a `file` part");
  std::optional<std::string> boundary;
  try {
    boundary = http::multipart_boundary(*ct);
  } catch (const Error&) {
  }
  if (!boundary)
    throw Error::validation("file", "multipart/form-data needs a valid boundary parameter");
}

// Capacity refusals of uploads: an upload takes about half a second of a processing thread, so
// the same Retry-After as the processing pool's own refusal.
Error busy(std::string message) {
  Error e(ErrorCode::Unavailable, std::move(message));
  e.retry_after_s = 2;
  return e;
}

}  // namespace

HttpApp::HttpApp(ApiDeps deps, ApiSettings settings)
    : d_(deps), s_(std::move(settings)), cors_(s_.cors_origins) {
  build_routes();
}

void HttpApp::build_routes() {
  using domain::RateClass;
  using A = AuthRule;
  using B = BodyRule;
  auto add = [&](const char* method, const char* pattern, A auth, RateClass rate, B body,
                 std::function<http::Response(http::Request&)> h,
                 ContentRule content = ContentRule::Any,
                 AdmissionRule admission = AdmissionRule::None, bool probe = false,
                 InlineRule inline_rule = InlineRule::Never) {
    Route r;
    r.method = method;
    r.pattern = pattern;
    r.auth = auth;
    r.rate = rate;
    r.body = body;
    r.handler = std::move(h);
    r.content = content;
    r.admission = admission;
    r.probe = probe;
    r.inline_rule = inline_rule;
    routes_.add(std::move(r));
  };
  auto& self = *this;
  // Uploads count against the upload limit; the service's JSON import is not an upload, and
  // completing a direct upload does not count again (starting it did).
  add(
      "POST", "/images", A::Bearer, RateClass::Upload, B::Multipart,
      [&self](http::Request& r) { return self.upload(r); }, ContentRule::NotJson,
      AdmissionRule::Processing);
  add(
      "POST", "/images", A::Service, RateClass::None, B::Json,
      [&self](http::Request& r) { return self.import_record(r); }, ContentRule::Json);
  add(
      "GET", "/images", A::Bearer, RateClass::Read, B::None,
      [&self](http::Request& r) { return self.list_images(r); }, ContentRule::Any,
      AdmissionRule::None, false, InlineRule::LocalReads);
  add("POST", "/images/uploads", A::Bearer, RateClass::Upload, B::Json,
      [&self](http::Request& r) { return self.start_upload(r); });
  add(
      "POST", "/images/uploads/{uploadId}/complete", A::Bearer, RateClass::None, B::None,
      [&self](http::Request& r) { return self.complete_upload(r); }, ContentRule::Any,
      AdmissionRule::Processing);
  add(
      "GET", "/images/{id}", A::Bearer, RateClass::Read, B::None,
      [&self](http::Request& r) { return self.get_image(r); }, ContentRule::Any,
      AdmissionRule::None, false, InlineRule::LocalReads);
  add("PATCH", "/images/{id}", A::Bearer, RateClass::Update, B::Json,
      [&self](http::Request& r) { return self.patch_image(r); });
  add("DELETE", "/images/{id}", A::Bearer, RateClass::Delete, B::None,
      [&self](http::Request& r) { return self.delete_image(r); });
  add("DELETE", "/users/{userId}/images", A::Bearer, RateClass::Delete, B::None,
      [&self](http::Request& r) { return self.erase_user(r); });
  if (d_.signed_puts)
    add(
        "PUT", "/uploads/{uploadId}", A::UploadSignature, RateClass::None, B::Raw,
        [&self](http::Request& r) { return self.receive_upload(r); }, ContentRule::Any,
        AdmissionRule::Memory);
  add("GET", "/files/{key+}", A::None, RateClass::None, B::None,
      [&self](http::Request& r) { return self.serve_file(r); });
  files_route_ = int(routes_.size()) - 1;
  add(
      "GET", "/health", A::None, RateClass::None, B::None,
      [&self](http::Request&) { return self.health(); }, ContentRule::Any, AdmissionRule::None,
      true);
  add(
      "GET", "/metrics", A::None, RateClass::None, B::None,
      [&self](http::Request& r) { return self.metrics_summary(r); }, ContentRule::Any,
      AdmissionRule::None, true);
  add("GET", "/api-docs", A::None, RateClass::None, B::None,
      [&self](http::Request&) { return self.api_docs(); });
  add("GET", "/swagger", A::None, RateClass::None, B::None,
      [&self](http::Request&) { return self.swagger(""); });
  add("GET", "/swagger/{asset}", A::None, RateClass::None, B::None,
      [&self](http::Request& r) { return self.swagger(r.params.at(0)); });
  add("GET", "/", A::None, RateClass::None, B::None,
      [&self](http::Request&) { return self.gallery(""); });
  add("GET", "/gallery/{asset}", A::None, RateClass::None, B::None,
      [&self](http::Request& r) { return self.gallery(r.params.at(0)); });
  add("POST", "/dev/token", A::None, RateClass::None, B::Json,
      [&self](http::Request& r) { return self.dev_token(r); });
  // CORS preflight, for any path.
  Route pre;
  pre.method = "OPTIONS";
  pre.pattern = "*";
  pre.handler = [&self](http::Request& r) { return self.cors_.preflight(r); };
  pre.inline_rule = InlineRule::Always;
  routes_.add(std::move(pre));
  preflight_route_ = int(routes_.size()) - 1;
}

HttpApp::Context& HttpApp::context(http::Request& req) {
  if (!req.context) req.context = std::make_shared<Context>();
  return *static_cast<Context*>(req.context.get());
}

const domain::Caller& HttpApp::caller(const http::Request& req) {
  auto* ctx = static_cast<const Context*>(req.context.get());
  if (!ctx || !ctx->caller) throw Error(ErrorCode::Unauthorized, "missing bearer token");
  return *ctx->caller;
}

http::Lane HttpApp::resolve(http::Request& head) {
  auto& ctx = context(head);
  if (head.method == "OPTIONS") {
    head.route = preflight_route_;
  } else {
    auto ct = head.header("Content-Type");
    auto m = routes_.match(head.method, head.path, ct ? *ct : std::string_view());
    head.route = m.index;
    head.params = std::move(m.params);
    ctx.allow = std::move(m.allow);
  }
  if (head.route < 0) return http::Lane::Inline;  // 404 or 405 from the table alone
  const Route& r = routes_.at(head.route);
  if (r.probe) return http::Lane::Probe;
  if (r.inline_rule == InlineRule::Always ||
      (r.inline_rule == InlineRule::LocalReads && s_.local_reads))
    return http::Lane::Inline;
  return http::Lane::Worker;
}

domain::Caller HttpApp::verify_bearer(const http::Request& req) const {
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

void HttpApp::authorize(http::Request& req, const Route& r, Context& ctx) const {
  switch (r.auth) {
    case AuthRule::None:
      return;
    case AuthRule::UploadSignature:
      return check_upload_signature(req);
    case AuthRule::Bearer:
      ctx.caller = verify_bearer(req);
      return;
    case AuthRule::Service:
      ctx.caller = verify_bearer(req);
      domain::check_may_import(*ctx.caller);  // the domain's rule, asked before the body
      return;
  }
}

std::size_t HttpApp::body_limit(const Route& r) const {
  switch (r.body) {
    case BodyRule::None:
      return kSmallBody;
    case BodyRule::Json:
      return s_.json_body_limit;
    case BodyRule::Multipart:
      // The file part plus form fields and multipart framing.
      return static_cast<std::size_t>(s_.max_file_size) + 1024 * 1024;
    case BodyRule::Raw:
      return static_cast<std::size_t>(s_.max_file_size);
  }
  return kSmallBody;
}

std::size_t HttpApp::possible_body(const http::Request& req, std::size_t limit) {
  if (auto cl = req.header("Content-Length")) {
    std::size_t n = 0;
    for (char c : *cl) {
      if (c < '0' || c > '9' || n > (std::size_t(1) << 50)) return limit + 1;
      n = n * 10 + std::size_t(c - '0');
    }
    return n;
  }
  return req.header("Transfer-Encoding") ? limit : 0;
}

void HttpApp::admit_resources(const http::Request& req, const Route& r, Context& ctx) {
  if (!d_.admission) return;
  std::size_t limit = body_limit(r);
  std::size_t body = std::min(possible_body(req, limit), limit);
  // A direct upload's bytes are read from storage once it is admitted: as large as a file may be.
  if (r.admission == AdmissionRule::Processing && r.body == BodyRule::None)
    body = static_cast<std::size_t>(s_.max_file_size);
  bool slot = r.admission == AdmissionRule::Processing;
  // Small bodies are bounded by the connection limit alone; larger ones count against the
  // budget, whatever the route.
  int64_t bytes = body > kSmallBody || r.admission != AdmissionRule::None ? int64_t(body) : 0;
  if (!slot && bytes == 0) return;
  base::AdmissionControl::Refusal why;
  ctx.ticket = d_.admission->try_take(slot, bytes, &why);
  if (ctx.ticket) return;
  const char* reason = why == base::AdmissionControl::Refusal::Slots ? "upload_slots" : "memory";
  d_.metrics.refused_requests.inc({reason});
  throw busy(why == base::AdmissionControl::Refusal::Slots
                 ? "every upload slot is taken; retry shortly"
                 : "the memory budget for request bodies is exhausted; retry shortly");
}

http::Admission HttpApp::admit(http::Request& head) {
  auto& ctx = context(head);
  http::Admission a;
  try {
    if (head.route < 0) {
      if (ctx.allow.empty()) throw Error(ErrorCode::NotFound, "no such route: " + head.path);
      Error e(ErrorCode::MethodNotAllowed,
              "method " + head.method + " is not allowed on " + head.path);
      auto res = error_response(head, e);
      res.set("Allow", ctx.allow);
      finish(head, res);
      a.refusal = std::move(res);
      return a;
    }
    const Route& r = routes_.at(head.route);
    authorize(head, r, ctx);
    if (r.body == BodyRule::Multipart) check_multipart_type(head);
    a.body_limit = body_limit(r);
    if (possible_body(head, a.body_limit) > a.body_limit) {
      d_.metrics.refused_requests.inc({"too_large"});
      throw Error(ErrorCode::PayloadTooLarge,
                  "request body exceeds the limit of " + std::to_string(a.body_limit) + " bytes");
    }
    // Capacity before the rate limit: a request turned away for capacity does not cost its
    // caller a token (a retry after Retry-After is not a second request against the limit).
    admit_resources(head, r, ctx);
    if (ctx.caller && r.rate != domain::RateClass::None)
      rate_limit(r, *ctx.caller, ctx.limit_headers);
    if (r.admission != AdmissionRule::None && !head.header("Content-Length"))
      a.body_reserve = a.body_limit;
    ctx.admitted = true;
  } catch (const Error& e) {
    ctx.ticket.reset();
    a.refusal = refusal(head, e);
  } catch (const std::exception& e) {
    ctx.ticket.reset();
    d_.log.error("unhandled_exception", {{"requestId", head.request_id}, {"what", e.what()}});
    a.refusal = refusal(head, Error(ErrorCode::Internal, "internal error"));
  }
  return a;
}

http::Response HttpApp::handle(http::Request& req) {
  if (!req.context || !context(req).admitted) {
    resolve(req);
    auto a = admit(req);
    if (a.refusal) return std::move(*a.refusal);
  }
  auto& ctx = context(req);
  http::Response res;
  try {
    res = routes_.at(req.route).handler(req);
  } catch (const Error& e) {
    res = error_response(req, e);
  } catch (const std::exception& e) {
    d_.log.error("unhandled_exception", {{"requestId", req.request_id}, {"what", e.what()}});
    res = error_response(req, Error(ErrorCode::Internal, "internal error"));
  }
  for (auto& [k, v] : ctx.limit_headers) res.set(k, v);
  finish(req, res);
  return res;
}

void HttpApp::rate_limit(const Route& r, const domain::Caller& caller, http::HeaderList& headers) {
  if (!d_.limiter || !s_.rate_limits.enabled) return;
  if (caller.role == domain::CallerRole::Service) return;  // service-to-service
  auto d = d_.limiter->take(caller.user_id + ":" + domain::rate_class_name(r.rate),
                            s_.rate_limits.windows(r.rate), d_.clock.now_ms());
  headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  headers.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_epoch_s));
  if (d.allowed) return;
  d_.metrics.rate_limited.fetch_add(1);
  Error e(ErrorCode::RateLimitExceeded,
          std::string("too many ") + domain::rate_class_name(r.rate) + " requests; retry in " +
              std::to_string(d.retry_after_s) + " s",
          {{"limit", std::to_string(d.limit)}});
  e.retry_after_s = int(d.retry_after_s);
  throw e;
}

http::Response HttpApp::error_response(const http::Request& req, const Error& err) const {
  http::Response res;
  res.status = http_status(err.code());
  res.body = render_error(err, req.request_id);
  res.set("Content-Type", "application/json");
  if (err.retry_after_s) res.set("Retry-After", std::to_string(*err.retry_after_s));
  if (err.code() == ErrorCode::Unauthorized) res.set("WWW-Authenticate", "Bearer");
  res.log_fields.emplace_back("errorCode", domain::code_name(err.code()));
  if (res.status >= 500) d_.metrics.responses_5xx.fetch_add(1);
  return res;
}

http::Response HttpApp::transport_error(const http::Request& head, const Error& err) {
  if (err.code() == ErrorCode::RequestTimeout) d_.metrics.refused_requests.inc({"slow_body"});
  if (err.code() == ErrorCode::BadRequest || err.code() == ErrorCode::NotImplemented)
    d_.metrics.refused_requests.inc({"framing"});
  if (err.code() == ErrorCode::Unavailable) d_.metrics.refused_requests.inc({"connections"});
  auto res = refusal(head, err);
  res.close_connection = true;
  return res;
}

http::Response HttpApp::refusal(const http::Request& head, const Error& err) {
  // An oversize body on an upload route is the upload's own FILE_TOO_LARGE (SPEC §2).
  http::Response res;
  bool upload_body = head.route >= 0 && (routes_.at(head.route).body == BodyRule::Multipart ||
                                         routes_.at(head.route).body == BodyRule::Raw);
  if (err.code() == ErrorCode::PayloadTooLarge && upload_body) {
    res = error_response(
        head,
        Error(ErrorCode::FileTooLarge,
              "file exceeds the maximum size of " + std::to_string(s_.max_file_size) + " bytes",
              {{"field", "file"}, {"maxBytes", std::to_string(s_.max_file_size)}}));
  } else {
    res = error_response(head, err);
  }
  if (head.context)
    for (auto& [k, v] : context(const_cast<http::Request&>(head)).limit_headers) res.set(k, v);
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
    res.head_content_length = res.body_size();
    res.body.clear();
    res.shared_body.reset();
    res.source.reset();
  }
}

void HttpApp::on_response(const http::Request& req, const http::Response& res,
                          int64_t duration_us) {
  d_.metrics.requests_total.fetch_add(1);
  const Route* r = req.route >= 0 ? &routes_.at(req.route) : nullptr;
  std::string_view route = r ? std::string_view(r->label) : "other";
  bool known_method = req.method == "GET" || req.method == "HEAD" || req.method == "POST" ||
                      req.method == "PATCH" || req.method == "DELETE" || req.method == "OPTIONS" ||
                      req.method == "PUT";
  std::string_view method = known_method ? std::string_view(req.method) : "other";
  char status[8];
  auto end = std::to_chars(status, status + sizeof status, res.status).ptr;
  d_.metrics.http_requests.inc(
      {route, method, std::string_view(status, std::size_t(end - status))});
  d_.metrics.http_duration.observe({route, method}, double(duration_us) / 1e6);
  if (r && r->admission == AdmissionRule::Processing) {
    std::string outcome = res.status == 201 ? "created" : res.status == 200 ? "replayed" : "";
    for (const auto& [k, v] : res.log_fields)
      if (k == "errorCode" && outcome.empty()) outcome = v;
    if (outcome.empty()) outcome = "status_" + std::to_string(res.status);
    d_.metrics.upload_outcomes.inc({outcome});
  }
  if (!d_.log.enabled(obs::Level::Info)) return;
  // Rendered straight into text: the access log is written for every request.
  JsonWriter f;
  f.begin_object();
  f.field("requestId", std::string_view(req.request_id));
  f.field("method", std::string_view(req.method));
  f.field("path", std::string_view(req.path));
  f.field("status", res.status);
  f.field("durationMs", duration_us / 1000);
  f.field("durationUs", duration_us);
  f.field("bytes", int64_t(res.head_content_length ? *res.head_content_length : res.body_size()));
  f.field("remote", std::string_view(req.remote_address));
  static constexpr std::string_view kOwn[] = {"requestId",  "method",     "path",  "status",
                                              "durationMs", "durationUs", "bytes", "remote",
                                              "timestamp",  "level",      "event"};
  const auto& extra = res.log_fields;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const std::string& k = extra[i].first;  // (not a structured binding: lambdas capture it)
    const std::string& v = extra[i].second;
    // The transport's own fields cannot be overridden; of a handler's repeated key, the last.
    if (std::find(std::begin(kOwn), std::end(kOwn), k) != std::end(kOwn)) continue;
    bool later = std::any_of(extra.begin() + std::ptrdiff_t(i) + 1, extra.end(),
                             [&](const auto& e) { return e.first == k; });
    if (!later) f.field(k, std::string_view(v));
  }
  f.end_object();
  d_.log.log_rendered(obs::Level::Info, "http_request", f.str());
}

}  // namespace isvc::api
