#include "domain/ulid.h"
#include "base/crypto.h"

#include <cstring>

namespace isvc::domain {

namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool crockford_digit(char c) {
  return c && std::strchr(kCrockford, c) != nullptr;
}

bool hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
}  // namespace

std::string UlidGenerator::next() {
  uint8_t bytes[16];
  {
    std::lock_guard lock(mu_);
    int64_t ms = clock_.now_ms();
    if (ms <= last_ms_) {
      // Same (or earlier) millisecond: increment the random part so ids stay strictly ordered.
      ms = last_ms_;
      int i = 9;
      while (i >= 0 && ++last_rand_[i] == 0) --i;
      if (i < 0) {  // 80-bit overflow: move to the next millisecond with fresh randomness
        ++ms;
        auto r = base::random_bytes(10);
        std::memcpy(last_rand_, r.data(), 10);
      }
    } else {
      auto r = base::random_bytes(10);
      std::memcpy(last_rand_, r.data(), 10);
      last_rand_[0] &= 0x7f;  // headroom so increments within one ms never overflow in practice
    }
    last_ms_ = ms;
    for (int k = 0; k < 6; ++k) bytes[k] = uint8_t(uint64_t(ms) >> (8 * (5 - k)));
    std::memcpy(bytes + 6, last_rand_, 10);
  }
  // 128 bits → 26 base32 chars; the first char carries the top 3 bits.
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[i] = kCrockford[int(v & 31)];
    v >>= 5;
  }
  return out;
}

bool is_ulid(std::string_view s) {
  if (s.size() != 26 || s[0] < '0' || s[0] > '7') return false;
  for (char c : s)
    if (!crockford_digit(c)) return false;
  return true;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !hex_digit(s[i])) return false;
  }
  return true;
}

}  // namespace isvc::domain
