// Token-bucket arithmetic of the per-user rate limits (cache::TokenBuckets, the in-process limiter)
// and the headers' choice of window.
#include "cache/token_buckets.h"
#include "domain/rate_limit.h"

#include <gtest/gtest.h>

namespace isvc::domain {
namespace {

using cache::TokenBuckets;

const std::vector<RateWindow> kUploads{{10, 60'000}, {100, 3'600'000}};

TEST(TokenBuckets, AllowsTheLimitThenRefusesWithRetryAfterUntilOneTokenIsBack) {
  TokenBuckets tb;
  std::vector<RateWindow> w{{3, 60'000}};
  int64_t t = 1'000'000;
  for (int i = 0; i < 3; ++i) {
    auto d = tb.take("alice:update", w, t);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 3);
    EXPECT_EQ(d.remaining, 2 - i);
  }
  auto d = tb.take("alice:update", w, t);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.retry_after_s, 20);         // one token per 20 s
  EXPECT_EQ(d.reset_epoch_s, 1000 + 60);  // full again after a minute
  // Another user and another class are separate buckets.
  EXPECT_TRUE(tb.take("bob:update", w, t).allowed);
  EXPECT_TRUE(tb.take("alice:delete", w, t).allowed);
  // 19.9 s later: still nothing; at 20 s one request passes.
  EXPECT_FALSE(tb.take("alice:update", w, t + 19'900).allowed);
  auto later = tb.take("alice:update", w, t + 20'000);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 0);
}

TEST(TokenBuckets, TheHeadersDescribeTheWindowWithTheFewestRemaining) {
  TokenBuckets tb;
  int64_t t = 0;
  RateDecision d;
  for (int i = 0; i < 4; ++i) d = tb.take("u", kUploads, t);
  EXPECT_EQ(d.limit, 10);  // 6 left per minute, 96 per hour
  EXPECT_EQ(d.remaining, 6);
  // One upload every 6.1 s never empties the minute bucket but drains the hour bucket: after
  // 115 of them it holds 100 - 114 * (1 - 6.1 / 36) - 1 ≈ 4.3 tokens and is the tighter one.
  TokenBuckets hourly;
  for (int i = 0; i < 115; ++i) {
    d = hourly.take("u", kUploads, int64_t(i) * 6'100);  // 10 per minute never binds
    ASSERT_TRUE(d.allowed) << i;
  }
  EXPECT_EQ(d.limit, 100);
  EXPECT_EQ(d.remaining, 4);
}

TEST(TokenBuckets, ARefusalTakesNoTokenFromAnyWindow) {
  TokenBuckets tb;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(tb.take("u", kUploads, 0).allowed);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(tb.take("u", kUploads, 0).allowed);
  // A minute later the minute bucket is full; the hour bucket lost only the 10 accepted ones.
  RateDecision d;
  for (int i = 0; i < 10; ++i) d = tb.take("u", kUploads, 60'000);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 10);
  EXPECT_EQ(d.remaining, 0);
  auto refused = tb.take("u", kUploads, 60'000);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 6);
}

TEST(TokenBuckets, FullBucketsAreForgottenWhenTheTableIsFull) {
  TokenBuckets tb(4);
  std::vector<RateWindow> w{{5, 1'000}};
  for (int i = 0; i < 4; ++i) tb.take("k" + std::to_string(i), w, 0);
  EXPECT_EQ(tb.size(), 4u);
  tb.take("new", w, 10'000);  // the others refilled long ago
  EXPECT_EQ(tb.size(), 1u);
}

TEST(RateLimitSettings, DefaultsAreTheSpecs) {
  RateLimitSettings s;
  EXPECT_EQ(s.windows(RateClass::Upload).size(), 2u);
  EXPECT_EQ(s.windows(RateClass::Upload)[1].limit, 100);
  EXPECT_EQ(s.windows(RateClass::Read)[0].limit, 1000);
  EXPECT_EQ(s.windows(RateClass::Read)[0].window_ms, 1000);
  EXPECT_TRUE(s.windows(RateClass::None).empty());
}

}  // namespace
}  // namespace isvc::domain
