#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace isvc::http {

namespace {

namespace ssl = boost::asio::ssl;

// Mozilla's "intermediate" TLS 1.2 suites without the DHE ones (no DH parameters to manage):
// forward secrecy and AEAD only. TLS 1.3's suites are all acceptable; the list fixes the order.
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kSuites13 =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const unsigned char kAlpn[] = "\x08http/1.1";

std::string openssl_error() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// Only HTTP/1.1 is spoken: selected when offered, otherwise the handshake goes on without ALPN
// (a client offering only h2 then fails on its own terms rather than ours).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kAlpn, sizeof kAlpn - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

TlsContexts::TlsContexts(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), ctx_(build()) {}

std::shared_ptr<ssl::context> TlsContexts::build() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  // Stateful resumption only: a session ticket key would live as long as the context (until the
  // next SIGHUP) and weaken forward secrecy; the cache is bounded and per context.
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(c, kCiphers12) != 1 || SSL_CTX_set_ciphersuites(c, kSuites13) != 1 ||
      SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1)
    throw std::runtime_error("TLS: cannot set the cipher suites: " + openssl_error());
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(c, 4096);  // bounded memory: ~1 KiB a session
  SSL_CTX_set_timeout(c, 3600);
  static const unsigned char sid_ctx[] = "image-service";
  SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1);
  SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(c, cert_file_.c_str()) != 1)
    throw TlsError(TlsError::Part::Certificate, "cannot load a PEM certificate chain from '" +
                                                    cert_file_ + "': " + openssl_error());
  // Read the key ourselves: no passphrase prompt on a terminal (an encrypted key fails), and a
  // key that is not the certificate's is told apart from one that does not parse.
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(key_file_.c_str(), "r"), std::fclose);
  if (!f) throw TlsError(TlsError::Part::Key, "cannot open '" + key_file_ + "'");
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
      PEM_read_PrivateKey(f.get(), nullptr, no_passphrase, nullptr), EVP_PKEY_free);
  if (!key)
    throw TlsError(TlsError::Part::Key, "cannot load a PEM private key (unencrypted) from '" +
                                            key_file_ + "': " + openssl_error());
  if (X509_check_private_key(SSL_CTX_get0_certificate(c), key.get()) != 1) {
    ERR_clear_error();
    throw TlsError(
        TlsError::Part::Key,
        "the key in '" + key_file_ + "' does not match the certificate in '" + cert_file_ + "'");
  }
  if (SSL_CTX_use_PrivateKey(c, key.get()) != 1 || SSL_CTX_check_private_key(c) != 1)
    throw TlsError(TlsError::Part::Key,
                   "cannot use the key in '" + key_file_ + "': " + openssl_error());
  return ctx;
}

std::shared_ptr<ssl::context> TlsContexts::current() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

void TlsContexts::reload() {
  auto fresh = build();
  std::lock_guard lock(mu_);
  ctx_ = std::move(fresh);
}

std::string TlsContexts::fingerprint() const {
  auto ctx = current();
  X509* x = SSL_CTX_get0_certificate(ctx->native_handle());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1) return "";
  std::string out;
  char hex[4];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

std::string TlsContexts::not_after() const {
  auto ctx = current();
  X509* x = SSL_CTX_get0_certificate(ctx->native_handle());
  if (!x) return "";
  struct tm t {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &t) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

}  // namespace isvc::http
