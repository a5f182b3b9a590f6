// Per-user rate limits (SPEC §4) as token buckets: a limit of L per window W is a bucket of L
// tokens refilled continuously at L/W. A request takes one token from every bucket of its class
// (uploads: per minute and per hour) or, when any bucket has less than one, from none.
// TokenBuckets keeps them in this process; cache::RedisRateLimiter keeps them in Redis so the
// limits hold across instances.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace isvc::domain {

enum class RateClass { None, Upload, Update, Delete, Read };
const char* rate_class_name(RateClass c);  // "upload", …

struct RateWindow {
  int64_t limit = 0;      // tokens, > 0
  int64_t window_ms = 0;  // > 0
};

struct RateLimitSettings {
  bool enabled = true;
  int64_t uploads_per_minute = 10;
  int64_t uploads_per_hour = 100;
  int64_t updates_per_minute = 50;
  int64_t deletes_per_minute = 50;
  int64_t reads_per_second = 1000;
  std::vector<RateWindow> windows(RateClass c) const;  // empty for None
};

// What to tell the client: the window with the fewest remaining requests (SPEC §12).
struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_epoch_s = 0;  // when that bucket is full again
  int64_t retry_after_s = 0;  // when denied: until every bucket has a token again (≥ 1)
};

// The decision from the buckets' token counts after the request (taken or not) at `now_ms`.
RateDecision decide(bool allowed, const std::vector<RateWindow>& windows,
                    const std::vector<double>& tokens, int64_t now_ms);

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes one token for `key` (user + class) from every window, or none when one is empty.
  virtual RateDecision take(const std::string& key, const std::vector<RateWindow>& windows,
                            int64_t now_ms) = 0;
};

class TokenBuckets final : public RateLimiter {
 public:
  explicit TokenBuckets(std::size_t max_keys = 100'000) : max_keys_(max_keys) {}
  RateDecision take(const std::string& key, const std::vector<RateWindow>& windows,
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

}  // namespace isvc::domain
