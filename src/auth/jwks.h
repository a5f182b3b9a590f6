// JSON Web Key Sets (RFC 7517) for RS256 and ES256 verification: parsing RSA (n, e) and EC P-256
// (x, y) keys into OpenSSL keys, and signature checks with them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace isvc::auth {

struct Jwk {
  std::string kid;
  std::string kty;             // "RSA" or "EC"
  std::string alg;             // optional "RS256"/"ES256"
  std::string use;             // optional "sig"
  std::shared_ptr<void> pkey;  // EVP_PKEY*, freed with EVP_PKEY_free

  // Verifies `sig` over `signing_input` for RS256 (RSA PKCS#1 v1.5 SHA-256) or ES256 (raw R||S).
  bool verify(std::string_view alg, std::string_view signing_input, std::string_view sig) const;
};

// Keys usable for signatures; unsupported or malformed keys are skipped. Throws
// std::runtime_error when the document is not a JWKS at all.
std::vector<Jwk> parse_jwks(std::string_view json);

// Fetches a URL with libcurl (bounded size and time). Throws std::runtime_error on failure.
std::string http_get(const std::string& url, long timeout_ms = 3000);

}  // namespace isvc::auth
