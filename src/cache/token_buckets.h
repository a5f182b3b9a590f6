// The in-process rate limiter: token buckets in this process's memory (one instance, or the
// fallback when Redis is unreachable), bounded to max_keys buckets.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/ports/rate_limiter.h"

namespace isvc::cache {

class TokenBuckets final : public domain::RateLimiter {
 public:
  explicit TokenBuckets(std::size_t max_keys = 100'000) : max_keys_(max_keys) {}
  domain::RateDecision take(const std::string& key, const std::vector<domain::RateWindow>& windows,
                            int64_t now_ms) override;
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
    int64_t limit = 0, window_ms = 0;
  };
  // Drops buckets that have refilled completely (they are the same as no bucket).
  void sweep(int64_t now_ms);

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Bucket>> buckets_;
  std::size_t max_keys_;
};

}  // namespace isvc::cache
