#include "http/tls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace isvc::http {
namespace {

// Writes a fresh P-256 key and a self-signed certificate for it; returns {cert, key} paths.
std::pair<std::string, std::string> write_pair(const std::filesystem::path& dir,
                                               const std::string& name) {
  static long serial = 1;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509_sign(x, key, EVP_sha256());
  auto cert = (dir / (name + ".pem")).string(), keyp = (dir / (name + ".key")).string();
  FILE* f = std::fopen(cert.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(keyp.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return {cert, keyp};
}

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("isvc-tls-unit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Tls, TheContextIsTls12AtLeastWithoutTicketsAndReportsItsCertificate) {
  auto [cert, key] = write_pair(dir_, "a");
  TlsContexts tls(cert, key);
  SSL_CTX* c = tls.current()->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(c), TLS1_2_VERSION);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_NO_TICKET, 0u);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(c), SSL_SESS_CACHE_SERVER);
  EXPECT_EQ(tls.fingerprint().size(), 32u * 3 - 1);  // AA:BB:… of a SHA-256
  EXPECT_EQ(tls.not_after().size(), 20u);            // 2026-01-01T00:00:00Z
}

TEST_F(Tls, UnusableFilesNameTheirPart) {
  auto [cert, key] = write_pair(dir_, "a");
  auto [other_cert, other_key] = write_pair(dir_, "b");
  auto part_of = [](const std::string& c, const std::string& k, std::string* what) {
    try {
      TlsContexts t(c, k);
    } catch (const TlsError& e) {
      *what = e.what();
      return e.part == TlsError::Part::Certificate ? 'C' : 'K';
    }
    return '-';
  };
  std::string what;
  EXPECT_EQ(part_of(cert, other_key, &what), 'K');
  EXPECT_NE(what.find("does not match the certificate"), std::string::npos) << what;
  std::ofstream(dir_ / "garbage.pem")
      << "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(part_of((dir_ / "garbage.pem").string(), key, &what), 'C');
  EXPECT_EQ(part_of(cert, (dir_ / "garbage.pem").string(), &what), 'K');
  EXPECT_EQ(part_of((dir_ / "missing.pem").string(), key, &what), 'C');
  EXPECT_EQ(part_of(cert, (dir_ / "missing.key").string(), &what), 'K');
}

TEST_F(Tls, ReloadGivesNewConnectionsANewContextAndKeepsTheOldOnFailure) {
  auto [cert, key] = write_pair(dir_, "a");
  TlsContexts tls(cert, key);
  auto before = tls.current();
  auto fp = tls.fingerprint();
  auto [cert2, key2] = write_pair(dir_, "b");
  std::filesystem::copy_file(cert2, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(key2, key, std::filesystem::copy_options::overwrite_existing);
  tls.reload();
  EXPECT_NE(tls.current(), before);
  EXPECT_NE(tls.fingerprint(), fp);
  // The old context lives on for whoever holds it (an open connection).
  EXPECT_NE(SSL_CTX_get0_certificate(before->native_handle()), nullptr);
  auto now = tls.current();
  auto fp2 = tls.fingerprint();
  std::ofstream(cert) << "not a certificate\n";
  EXPECT_THROW(tls.reload(), TlsError);
  EXPECT_EQ(tls.current(), now);
  EXPECT_EQ(tls.fingerprint(), fp2);
}

}  // namespace
}  // namespace isvc::http
