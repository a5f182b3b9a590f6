#include "base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace isvc::base {

std::string sha256(std::string_view bytes) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                  EVP_sha256(), nullptr))
    throw std::runtime_error("sha256 failed");
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || !EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr))
    throw std::runtime_error("sha256 init failed");
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256::update(std::string_view bytes) {
  if (!EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size()))
    throw std::runtime_error("sha256 failed");
}

std::string Sha256::finish() {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (!EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_),
                          reinterpret_cast<unsigned char*>(out.data()), &len))
    throw std::runtime_error("sha256 failed");
  return out;
}

std::string md5(std::string_view bytes) {
  std::string out(16, '\0');
  unsigned int len = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                  EVP_md5(), nullptr))
    throw std::runtime_error("md5 failed");
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 32;
  if (!HMAC(EVP_sha256(), key.data(), int(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(),
            reinterpret_cast<unsigned char*>(out.data()), &len))
    throw std::runtime_error("hmac failed");
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

}  // namespace isvc::base
