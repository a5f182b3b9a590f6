#include "auth/jwks.h"
#include "base/encoding.h"

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <stdexcept>

namespace isvc::auth {

namespace {

using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

BnPtr bn(std::string_view bytes) {
  return BnPtr(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()), nullptr),
      &BN_free);
}

std::shared_ptr<void> make_pkey(const char* type, OSSL_PARAM* params) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) > 0;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return nullptr;
  return std::shared_ptr<void>(pkey, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}

std::shared_ptr<void> rsa_key(std::string_view n, std::string_view e) {
  if (n.size() < 256 || n.size() > 1024 || e.empty() || e.size() > 8)
    return nullptr;  // ≥ 2048 bits
  auto bn_n = bn(n), bn_e = bn(e);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  auto key = params ? make_pkey("RSA", params) : nullptr;
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

std::shared_ptr<void> ec_key(std::string_view x, std::string_view y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + std::string(x) + std::string(y);  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  auto key = params ? make_pkey("EC", params) : nullptr;
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

std::string str(const boost::json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// JWS ES256 signatures are R||S (32 bytes each); OpenSSL wants DER.
std::string es256_to_der(std::string_view raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  std::string out = len > 0 ? std::string(reinterpret_cast<char*>(der), std::size_t(len)) : "";
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::size_t curl_sink(char* data, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > 1024 * 1024) return 0;  // a JWKS is small; refuse anything huge
  out->append(data, size * n);
  return size * n;
}

}  // namespace

bool Jwk::verify(std::string_view alg, std::string_view input, std::string_view sig) const {
  if (!pkey) return false;
  std::string der;
  if (alg == "ES256") {
    if (kty != "EC" || sig.size() != 64) return false;
    der = es256_to_der(sig);
    sig = der;
  } else if (alg != "RS256" || kty != "RSA") {
    return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx &&
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr,
                           static_cast<EVP_PKEY*>(pkey.get())) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::vector<Jwk> parse_jwks(std::string_view json) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object() || !doc.as_object().if_contains("keys") ||
      !doc.as_object().at("keys").is_array())
    throw std::runtime_error("not a JWKS document (expected {\"keys\": [...]})");
  std::vector<Jwk> out;
  for (const auto& v : doc.as_object().at("keys").as_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    Jwk k;
    k.kid = str(o, "kid");
    k.kty = str(o, "kty");
    k.alg = str(o, "alg");
    k.use = str(o, "use");
    if (!k.use.empty() && k.use != "sig") continue;
    if (k.kty == "RSA") {
      auto n = base::base64url_decode(str(o, "n")), e = base::base64url_decode(str(o, "e"));
      if (n && e) k.pkey = rsa_key(*n, *e);
    } else if (k.kty == "EC" && str(o, "crv") == "P-256") {
      auto x = base::base64url_decode(str(o, "x")), y = base::base64url_decode(str(o, "y"));
      if (x && y) k.pkey = ec_key(*x, *y);
    }
    if (k.pkey) out.push_back(std::move(k));
  }
  return out;
}

std::string http_get(const std::string& url, long timeout_ms) {
  CURL* curl = curl_easy_init();
  if (!curl) throw std::runtime_error("curl init failed");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_sink);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("fetch failed: ") + curl_easy_strerror(rc));
  if (status != 200) throw std::runtime_error("fetch failed: HTTP " + std::to_string(status));
  return body;
}

}  // namespace isvc::auth
