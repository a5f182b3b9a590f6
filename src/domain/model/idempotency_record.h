// An idempotency key's record (SPEC §6): which request claimed the key and, once it succeeded,
// its result. Kept by the idempotency repository; the rules are in domain/idempotency.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace isvc::domain {

struct IdempotencyRecord {
  std::string key;                      // scoped_idempotency_key(): user and client key, hashed
  std::string fingerprint;              // what the request was (hex digest)
  std::optional<std::string> image_id;  // the first request's result, once it succeeded
  int64_t lease_until_ms = 0;           // a claim without a result may be taken over after this
  int64_t expires_at_ms = 0;            // the key may be used afresh after this
};

}  // namespace isvc::domain
