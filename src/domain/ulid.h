// ULIDs (https://github.com/ulid/spec): 48-bit ms timestamp + 80 random bits, Crockford base32,
// 26 chars, monotonic within one generator (same ms → random part + 1).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "domain/ports/clock.h"
#include "domain/ports/ids.h"

namespace isvc::domain {

class UlidGenerator final : public IdGenerator {
 public:
  explicit UlidGenerator(const Clock& clock) : clock_(clock) {}
  std::string next() override;  // thread-safe

 private:
  const Clock& clock_;
  std::mutex mu_;
  int64_t last_ms_ = -1;
  uint8_t last_rand_[10] = {};
};

bool is_ulid(std::string_view s);  // 26 Crockford base32 chars, first char 0-7
bool is_uuid(std::string_view s);  // 8-4-4-4-12 hex, any case
// A valid image id is a ULID or a UUID (legacy).
inline bool is_image_id(std::string_view s) {
  return is_ulid(s) || is_uuid(s);
}

}  // namespace isvc::domain
