// Verifies bearer JWTs (SPEC §3): HS256 with a shared secret, RS256/ES256 with JWKS keys; checks
// exp/nbf/iat (leeway), iss, aud/client_id, sub; maps role claims. Also mints dev HS256 tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ports/clock.h"

namespace isvc::auth {

enum class Role { User, Admin, Service };
const char* role_name(Role r);

struct Principal {
  std::string subject;
  Role role = Role::User;
  bool is_admin() const { return role == Role::Admin; }
};

struct JwtConfig {
  std::string hs256_secret;            // raw bytes; empty = HS256 disabled
  std::string jwks_file;               // path to a JWKS document; empty = none
  std::string jwks_url;                // https URL of a JWKS; empty = none
  std::string issuer;                  // required `iss` when non-empty
  std::vector<std::string> audiences;  // `aud` or `client_id` must be one of these when non-empty
  int leeway_s = 60;
  int jwks_min_refetch_s = 60;  // an unknown kid refetches the URL at most this often
};

// Returns the JWKS document at a URL; throws on failure. The default is http_get (3 s timeout);
// tests inject their own.
using JwksFetch = std::function<std::string(const std::string& url)>;

class TokenVerifier {
 public:
  TokenVerifier(JwtConfig cfg, const domain::Clock& clock, JwksFetch fetch = {});
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  // The verified principal; throws domain::Error(Unauthorized) with a short reason otherwise.
  // Thread-safe. Never waits for a JWKS fetch when the token's key is known; a token that needs
  // a fetch waits for the one in flight, if any, rather than starting another. A token verified
  // in the last 5 minutes is answered from memory while it has not expired and the keys have
  // not changed.
  Principal verify(std::string_view token) const;

  // JWKS URL fetches finished, and verifications that waited for one another request started.
  struct JwksStats {
    uint64_t fetches = 0;
    uint64_t joined = 0;
  };
  JwksStats jwks_stats() const;

 private:
  Principal verify_uncached(std::string_view token, double& exp) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An HS256 token with sub, role, iat, exp (= now + ttl_s), and iss/aud when given.
std::string mint_hs256(std::string_view secret, const std::string& subject, Role role,
                       int64_t ttl_s, int64_t now_s, const std::string& issuer = "",
                       const std::string& audience = "");

}  // namespace isvc::auth
