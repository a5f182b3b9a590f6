#include "auth/token_verifier.h"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "auth/jwks.h"
#include "auth/verified_tokens.h"
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

// The URL's keys are an immutable snapshot, replaced whole by a fetch: a verification only copies
// the pointer (under a lock held for that copy alone), so a token whose key is known never waits
// for a fetch. A fetch runs outside any lock, one at a time (single flight): verifications that
// need its result wait for it, a bounded time; the others do not wait at all.
// (Not std::atomic<std::shared_ptr>: GCC 12's has no ThreadSanitizer annotations, and the tsan
// preset reports its lock bit as a race.)
struct TokenVerifier::Impl {
  using KeySet = std::vector<Jwk>;
  // Longer than a fetch may take (http_get's timeout), so a waiter normally sees its end.
  static constexpr auto kJoinWait = std::chrono::seconds(5);

  JwtConfig cfg;
  const domain::Clock& clock;
  JwksFetch fetch;
  KeySet file_keys;  // immutable after construction

  mutable std::mutex snapshot_mu;            // guards url_keys, the pointer only
  std::shared_ptr<const KeySet> url_keys;    // null until a fetch succeeded
  std::atomic<uint64_t> keys_generation{0};  // moves whenever url_keys does
  mutable VerifiedTokens verified;
  std::shared_ptr<const KeySet> snapshot() const {
    std::lock_guard l(snapshot_mu);
    return url_keys;
  }
  void publish(std::shared_ptr<const KeySet> keys) {
    std::lock_guard l(snapshot_mu);
    url_keys = std::move(keys);
    keys_generation.fetch_add(1);
  }

  std::mutex flight_mu;  // guards in_flight, flights, last_attempt_s; never held during a fetch
  std::condition_variable flight_done;
  bool in_flight = false;
  uint64_t flights = 0;  // fetches finished
  int64_t last_attempt_s = -1;
  std::atomic<uint64_t> fetches{0}, joined{0};

  Impl(JwtConfig c, const domain::Clock& k, JwksFetch f)
      : cfg(std::move(c)), clock(k), fetch(std::move(f)) {
    if (!fetch) fetch = [](const std::string& url) { return http_get(url); };
  }

  // Fetches the URL unless one was tried less than jwks_min_refetch_s ago; while another request
  // fetches, waits for its result instead of fetching again.
  void refetch() {
    std::unique_lock lock(flight_mu);
    if (in_flight) {
      joined.fetch_add(1);
      uint64_t seen = flights;
      flight_done.wait_for(lock, kJoinWait, [&] { return flights != seen; });
      return;
    }
    int64_t now = clock.now_s();
    if (last_attempt_s >= 0 && now - last_attempt_s < cfg.jwks_min_refetch_s) return;
    last_attempt_s = now;
    in_flight = true;
    lock.unlock();
    std::shared_ptr<const KeySet> fresh;
    try {
      fresh = std::make_shared<const KeySet>(parse_jwks(fetch(cfg.jwks_url)));
    } catch (...) {
      // Keep the keys we had; the next unknown kid after the interval tries again.
    }
    fetches.fetch_add(1);
    if (fresh) publish(std::move(fresh));
    lock.lock();
    in_flight = false;
    ++flights;
    lock.unlock();
    flight_done.notify_all();
  }

  static void add_candidates(const KeySet* set, const std::string& kid, const std::string& kty,
                             std::vector<const Jwk*>& out) {
    if (!set) return;
    for (const auto& k : *set)
      if (k.kty == kty && (kid.empty() || k.kid == kid)) out.push_back(&k);
  }

  static bool any_verifies(const std::vector<const Jwk*>& keys, const std::string& alg,
                           std::string_view input, std::string_view sig) {
    for (const auto* k : keys) {
      if (!k->alg.empty() && k->alg != alg) continue;
      if (k->verify(alg, input, sig)) return true;
    }
    return false;
  }

  bool verify_asymmetric(const std::string& alg, const std::string& kid, std::string_view input,
                         std::string_view sig) {
    const std::string kty = alg == "RS256" ? "RSA" : "EC";
    auto before = snapshot();
    std::vector<const Jwk*> keys;
    add_candidates(&file_keys, kid, kty, keys);
    add_candidates(before.get(), kid, kty, keys);
    if (any_verifies(keys, alg, input, sig)) return true;
    // A fetch may help only when the URL was never fetched, or for a kid no key has.
    if (cfg.jwks_url.empty() || (before && (kid.empty() || !keys.empty()))) return false;
    refetch();
    auto after = snapshot();
    if (after == before) return false;
    keys.clear();
    add_candidates(&file_keys, kid, kty, keys);
    add_candidates(after.get(), kid, kty, keys);
    return any_verifies(keys, alg, input, sig);
  }
};

TokenVerifier::TokenVerifier(JwtConfig cfg, const domain::Clock& clock, JwksFetch fetch)
    : impl_(std::make_unique<Impl>(std::move(cfg), clock, std::move(fetch))) {
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

TokenVerifier::JwksStats TokenVerifier::jwks_stats() const {
  return {impl_->fetches.load(), impl_->joined.load()};
}

TokenVerifier::~TokenVerifier() = default;

Principal TokenVerifier::verify(std::string_view token) const {
  int64_t now_s = impl_->clock.now_s();
  // Read before verifying: a JWKS change while this token verifies leaves an entry that misses.
  uint64_t keys = impl_->keys_generation.load();
  if (auto hit = impl_->verified.find(token, now_s, keys)) return *hit;
  double exp = 0;
  Principal p = verify_uncached(token, exp);
  // Capped in floating point before the conversion: `exp` may be any JSON number (1e300).
  double cap = double(now_s + VerifiedTokens::kCacheTtlS);
  double last = std::floor(exp + impl_->cfg.leeway_s);
  if (!(last <= cap)) last = cap;  // NaN and infinities included
  int64_t until = int64_t(last);
  impl_->verified.put(token, p, until, keys);
  return p;
}

Principal TokenVerifier::verify_uncached(std::string_view token, double& exp_out) const {
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
  exp_out = *exp;
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
