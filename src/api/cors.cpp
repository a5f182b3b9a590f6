#include "api/cors.h"

namespace isvc::api {

namespace {
constexpr const char* kMethods = "GET, POST, PATCH, DELETE, OPTIONS";
constexpr const char* kHeaders = "Authorization, Content-Type, X-Requested-With, Idempotency-Key";
constexpr const char* kExpose =
    "X-Request-Id, ETag, Content-Range, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset";

bool lower_equal(std::string_view a, std::string_view b) {
  return http::iequals(a, b);
}

// scheme://*.domain[:port] matches scheme://x.domain[:port], scheme://a.b.domain[:port].
bool matches_pattern(std::string_view pattern, std::string_view origin) {
  auto star = pattern.find("://*.");
  if (star == std::string_view::npos) return lower_equal(pattern, origin);
  std::string_view scheme = pattern.substr(0, star + 3);  // "https://"
  std::string_view suffix = pattern.substr(star + 4);     // ".domain[:port]"
  if (origin.size() <= scheme.size() + suffix.size()) return false;
  if (!lower_equal(origin.substr(0, scheme.size()), scheme)) return false;
  if (!lower_equal(origin.substr(origin.size() - suffix.size()), suffix)) return false;
  std::string_view label =
      origin.substr(scheme.size(), origin.size() - scheme.size() - suffix.size());
  // The subdomain part: dot-separated labels of [A-Za-z0-9-], no empty labels, no port or path.
  if (label.empty() || label.front() == '.' || label.back() == '.') return false;
  for (char c : label) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (!ok) return false;
  }
  return label.find("..") == std::string_view::npos;
}
}  // namespace

bool CorsPolicy::allowed(std::string_view origin) const {
  if (origin.empty() || origin == "null") return false;
  for (const auto& o : origins_)
    if (matches_pattern(o, origin)) return true;
  return false;
}

void CorsPolicy::decorate(const http::Request& req, http::Response& res) const {
  res.set("Vary", "Origin");
  auto origin = req.header("Origin");
  if (!origin || !allowed(*origin)) return;
  res.set("Access-Control-Allow-Origin", std::string(*origin));
  res.set("Access-Control-Allow-Credentials", "true");
  res.set("Access-Control-Expose-Headers", kExpose);
}

http::Response CorsPolicy::preflight(const http::Request& req) const {
  http::Response res;
  res.status = 204;
  decorate(req, res);
  auto origin = req.header("Origin");
  if (origin && allowed(*origin)) {
    res.set("Access-Control-Allow-Methods", kMethods);
    res.set("Access-Control-Allow-Headers", kHeaders);
    res.set("Access-Control-Max-Age", "86400");
  }
  return res;
}

}  // namespace isvc::api
