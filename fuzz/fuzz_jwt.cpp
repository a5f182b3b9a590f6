// The JWT parser/verifier (HS256 secret + a JWKS with an RSA and an EC key).
//   Raw mode (first byte even): the input is the token. Nothing the fuzzer writes can carry a
//   valid signature, so verification must fail, and only with Unauthorized.
//   Signed mode (first byte odd): the input is "header JSON \n payload JSON"; the harness signs it
//   with HS256 — with the real secret (then any outcome but a crash is fine, and an accepted
//   token must have a non-empty subject) or with the RSA public key as the HMAC secret
//   (algorithm confusion: must always be refused).
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "auth/token_verifier.h"
#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"
#include "domain/ports/clock.h"

using namespace isvc;

namespace {

constexpr const char* kSecret = "fuzz-jwt-secret";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Fixture {
  domain::SystemClock clock;
  std::string rsa_pem = read_file(ISVC_FUZZ_DIR "/keys/rsa_public.pem");
  std::unique_ptr<auth::TokenVerifier> verifier;
  Fixture() {
    auth::JwtConfig cfg;
    cfg.hs256_secret = kSecret;
    cfg.jwks_file = ISVC_FUZZ_DIR "/keys/jwks.json";
    verifier = std::make_unique<auth::TokenVerifier>(cfg, clock);
  }
};

std::string sign(std::string_view key, std::string_view header, std::string_view payload) {
  std::string input = base::base64url_encode(header) + "." + base::base64url_encode(payload);
  return input + "." + base::base64url_encode(base::hmac_sha256(key, input));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool signed_mode = data[0] & 1;
  bool confusion = data[0] & 2;
  std::string token(in);
  if (signed_mode) {
    auto nl = in.find('\n');
    auto header = in.substr(0, nl);
    auto payload = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    token =
        sign(confusion ? std::string_view(f.rsa_pem) : std::string_view(kSecret), header, payload);
  }
  try {
    auto p = f.verifier->verify(token);
    if (!signed_mode || confusion) std::abort();  // a forgery got through
    if (p.subject.empty()) std::abort();
  } catch (const domain::Error& e) {
    if (e.code() != domain::ErrorCode::Unauthorized) std::abort();
  }
  return 0;
}
