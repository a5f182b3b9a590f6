// The hashes, MACs and randomness the service needs (OpenSSL underneath).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace isvc::base {

std::string sha256(std::string_view bytes);  // 32 raw bytes
// SHA-256 of bytes given in pieces (a file hashed without holding it whole).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string finish();  // 32 raw bytes

 private:
  void* ctx_;
};
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
// 16 raw bytes. Not for security: S3's Content-MD5 integrity header only.
std::string md5(std::string_view bytes);
// Constant-time comparison for MACs and secrets.
bool constant_time_equal(std::string_view a, std::string_view b);
// Cryptographically secure random bytes.
std::string random_bytes(std::size_t n);

}  // namespace isvc::base
