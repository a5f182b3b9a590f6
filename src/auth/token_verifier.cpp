#include "auth/token_verifier.h"

#include <boost/json.hpp>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>

#include "auth/jwks.h"
#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"

namespace isvc::auth {

using domain::Error;
using domain::ErrorCode;

namespace {

constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::size_t kMaxSubject = 256;

Error unauthorized(const std::string& why) {
  return Error(ErrorCode::Unauthorized, why);
}

std::optional<double> number(const boost::json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return double(v->as_int64());
  if (v->is_uint64()) return double(v->as_uint64());
  if (v->is_double()) return v->as_double();
  throw unauthorized(std::string("claim ") + k + " must be a number");
}

boost::json::object parse_object(std::string_view b64, const char* what) {
  auto raw = base::base64url_decode(b64);
  if (!raw) throw unauthorized(std::string("malformed token ") + what);
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 16;
  auto v = boost::json::parse(*raw, ec, {}, opts);
  if (ec || !v.is_object()) throw unauthorized(std::string("malformed token ") + what);
  return std::move(v.as_object());
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  for (const auto& s : list)
    if (s == v) return true;
  return false;
}

// Explicit `role` claim (unknown values are refused rather than downgraded, so a typo in an
// issuer's config fails loudly), else Cognito groups, else user.
Role role_of(const boost::json::object& claims) {
  if (auto* r = claims.if_contains("role")) {
    if (!r->is_string()) throw unauthorized("claim role must be a string");
    auto s = r->as_string();
    if (s == "user") return Role::User;
    if (s == "admin") return Role::Admin;
    if (s == "service") return Role::Service;
    throw unauthorized("unknown role");
  }
  if (auto* g = claims.if_contains("cognito:groups"); g && g->is_array()) {
    bool service = false;
    for (const auto& e : g->as_array()) {
      if (!e.is_string()) continue;
      if (e.as_string() == "admin") return Role::Admin;
      if (e.as_string() == "service") service = true;
    }
    if (service) return Role::Service;
  }
  return Role::User;
}

}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::User:
      return "user";
    case Role::Admin:
      return "admin";
    case Role::Service:
      return "service";
  }
  return "user";
}

struct TokenVerifier::Impl {
  JwtConfig cfg;
  const domain::Clock& clock;
  mutable std::shared_mutex keys_mu;
  mutable std::vector<Jwk> file_keys;
  mutable std::vector<Jwk> url_keys;
  mutable int64_t last_fetch_s = -1;
  mutable std::mutex fetch_mu;

  Impl(JwtConfig c, const domain::Clock& k) : cfg(std::move(c)), clock(k) {}

  // Fetches the JWKS URL when never fetched or, for an unknown kid, at most once per interval.
  void refresh(bool force) const {
    if (cfg.jwks_url.empty()) return;
    std::lock_guard lock(fetch_mu);
    int64_t now = clock.now_s();
    if (last_fetch_s >= 0 && (!force || now - last_fetch_s < cfg.jwks_min_refetch_s)) return;
    last_fetch_s = now;
    try {
      auto keys = parse_jwks(http_get(cfg.jwks_url));
      std::unique_lock w(keys_mu);
      url_keys = std::move(keys);
    } catch (const std::exception&) {
      // Keep the keys we had; the next unknown kid after the interval tries again.
    }
  }

  std::vector<Jwk> candidates(const std::string& kid, const std::string& kty) const {
    std::shared_lock r(keys_mu);
    std::vector<Jwk> out;
    for (const auto* set : {&file_keys, &url_keys})
      for (const auto& k : *set)
        if (k.kty == kty && (kid.empty() || k.kid == kid)) out.push_back(k);
    return out;
  }

  bool verify_asymmetric(const std::string& alg, const std::string& kid, std::string_view input,
                         std::string_view sig) const {
    const std::string kty = alg == "RS256" ? "RSA" : "EC";
    refresh(false);
    auto keys = candidates(kid, kty);
    if (keys.empty() && !kid.empty()) {
      refresh(true);
      keys = candidates(kid, kty);
    }
    for (const auto& k : keys) {
      if (!k.alg.empty() && k.alg != alg) continue;
      if (k.verify(alg, input, sig)) return true;
    }
    return false;
  }
};

TokenVerifier::TokenVerifier(JwtConfig cfg, const domain::Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(cfg), clock)) {
  if (!impl_->cfg.jwks_file.empty()) {
    std::ifstream in(impl_->cfg.jwks_file);
    if (!in) throw std::runtime_error("JWT_JWKS_FILE: cannot read " + impl_->cfg.jwks_file);
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      impl_->file_keys = parse_jwks(ss.str());
    } catch (const std::exception& e) {
      throw std::runtime_error("JWT_JWKS_FILE: " + std::string(e.what()));
    }
  }
}

TokenVerifier::~TokenVerifier() = default;

Principal TokenVerifier::verify(std::string_view token) const {
  if (token.empty()) throw unauthorized("missing token");
  if (token.size() > kMaxTokenBytes) throw unauthorized("token too large");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    throw unauthorized("malformed token");
  auto header = parse_object(token.substr(0, d1), "header");
  auto* alg_v = header.if_contains("alg");
  if (!alg_v || !alg_v->is_string()) throw unauthorized("token has no algorithm");
  std::string alg(alg_v->as_string());
  std::string kid;
  if (auto* k = header.if_contains("kid"); k && k->is_string()) kid = std::string(k->as_string());
  if (header.if_contains("crit")) throw unauthorized("unsupported critical header");

  auto sig = base::base64url_decode(token.substr(d2 + 1));
  if (!sig) throw unauthorized("malformed token signature");
  std::string_view input = token.substr(0, d2);
  const auto& cfg = impl_->cfg;
  bool ok = false;
  if (alg == "HS256") {
    // Only the configured shared secret; never a public key's bytes (algorithm confusion).
    if (cfg.hs256_secret.empty()) throw unauthorized("HS256 tokens are not accepted");
    ok = base::constant_time_equal(*sig, base::hmac_sha256(cfg.hs256_secret, input));
  } else if (alg == "RS256" || alg == "ES256") {
    if (cfg.jwks_file.empty() && cfg.jwks_url.empty())
      throw unauthorized(alg + " tokens are not accepted");
    ok = impl_->verify_asymmetric(alg, kid, input, *sig);
  } else {
    throw unauthorized("algorithm not accepted");
  }
  if (!ok) throw unauthorized("invalid token signature");

  auto claims = parse_object(token.substr(d1 + 1, d2 - d1 - 1), "payload");
  double now = double(impl_->clock.now_s());
  double leeway = cfg.leeway_s;
  auto exp = number(claims, "exp");
  if (!exp) throw unauthorized("token has no expiry");
  if (now > *exp + leeway) throw unauthorized("token expired");
  if (auto nbf = number(claims, "nbf"); nbf && now + leeway < *nbf)
    throw unauthorized("token not yet valid");
  if (auto iat = number(claims, "iat"); iat && now + leeway < *iat)
    throw unauthorized("token issued in the future");
  if (!cfg.issuer.empty()) {
    auto* iss = claims.if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != cfg.issuer)
      throw unauthorized("wrong token issuer");
  }
  if (!cfg.audiences.empty()) {
    bool match = false;
    if (auto* aud = claims.if_contains("aud")) {
      if (aud->is_string()) match = contains(cfg.audiences, aud->as_string());
      if (aud->is_array())
        for (const auto& a : aud->as_array())
          match = match || (a.is_string() && contains(cfg.audiences, a.as_string()));
    }
    if (auto* cid = claims.if_contains("client_id"); !match && cid && cid->is_string())
      match = contains(cfg.audiences, cid->as_string());
    if (!match) throw unauthorized("wrong token audience");
  }
  auto* sub = claims.if_contains("sub");
  if (!sub || !sub->is_string() || sub->as_string().empty() ||
      sub->as_string().size() > kMaxSubject)
    throw unauthorized("token has no subject");
  Principal p;
  p.subject = std::string(sub->as_string());
  p.role = role_of(claims);
  return p;
}

std::string mint_hs256(std::string_view secret, const std::string& subject, Role role,
                       int64_t ttl_s, int64_t now_s, const std::string& issuer,
                       const std::string& audience) {
  boost::json::object claims;
  claims["sub"] = subject;
  claims["role"] = role_name(role);
  claims["iat"] = now_s;
  claims["exp"] = now_s + ttl_s;
  if (!issuer.empty()) claims["iss"] = issuer;
  if (!audience.empty()) claims["aud"] = audience;
  std::string input = base::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      base::base64url_encode(boost::json::serialize(claims));
  return input + "." + base::base64url_encode(base::hmac_sha256(secret, input));
}

}  // namespace isvc::auth
