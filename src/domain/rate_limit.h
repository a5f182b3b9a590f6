// Per-user rate limits (SPEC §4) as token buckets: a limit of L per window W is a bucket of L
// tokens refilled continuously at L/W. A request takes one token from every bucket of its class
// (uploads: per minute and per hour) or, when any bucket has less than one, from none.
// The buckets live behind the RateLimiter port: cache::TokenBuckets in this process,
// cache::RedisRateLimiter in Redis so the limits hold across instances.
#pragma once

#include <cstdint>
#include <vector>

#include "domain/ports/rate_limiter.h"

namespace isvc::domain {

enum class RateClass { None, Upload, Update, Delete, Read };
const char* rate_class_name(RateClass c);  // "upload", …

struct RateLimitSettings {
  bool enabled = true;
  int64_t uploads_per_minute = 10;
  int64_t uploads_per_hour = 100;
  int64_t updates_per_minute = 50;
  int64_t deletes_per_minute = 50;
  int64_t reads_per_second = 1000;
  std::vector<RateWindow> windows(RateClass c) const;  // empty for None
};

// The decision from the buckets' token counts after the request (taken or not) at `now_ms`.
RateDecision decide(bool allowed, const std::vector<RateWindow>& windows,
                    const std::vector<double>& tokens, int64_t now_ms);

}  // namespace isvc::domain
