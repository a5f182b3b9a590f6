// Rate-limit buckets in Redis (SPEC §4: with Redis the limits hold across all instances). One Lua
// script per request refills and takes from every bucket of the class atomically, on Redis's
// clock; keys are "isvc:{ns}:rl:{user}:class:window" with a TTL of the window. When Redis fails
// the instance falls back to its own buckets (per-instance limits) rather than refusing or
// letting everything through.
#pragma once

#include <string>
#include <vector>

#include "cache/redis_client.h"
#include "cache/token_buckets.h"
#include "domain/rate_limit.h"

namespace isvc::cache {

class RedisRateLimiter final : public domain::RateLimiter {
 public:
  RedisRateLimiter(RedisClient& redis, std::string key_namespace);
  domain::RateDecision take(const std::string& key, const std::vector<domain::RateWindow>& windows,
                            int64_t now_ms) override;

 private:
  RedisUse redis_;  // a circuit of its own: cache failures never make the limits per-instance
  std::string prefix_;
  cache::TokenBuckets fallback_;
};

}  // namespace isvc::cache
