// Port: token buckets per key (user + rate class). Adapters: cache/token_buckets (in-process),
// cache/redis_rate_limiter (shared by every instance). The policy is domain/rate_limit.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace isvc::domain {

struct RateWindow {
  int64_t limit = 0;      // tokens, > 0
  int64_t window_ms = 0;  // > 0
};

// What to tell the client: the window with the fewest remaining requests (SPEC §12).
struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_epoch_s = 0;  // when that bucket is full again
  int64_t retry_after_s = 0;  // when denied: until every bucket has a token again (≥ 1)
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes one token for `key` (user + class) from every window, or none when one is empty.
  virtual RateDecision take(const std::string& key, const std::vector<RateWindow>& windows,
                            int64_t now_ms) = 0;
};

}  // namespace isvc::domain
