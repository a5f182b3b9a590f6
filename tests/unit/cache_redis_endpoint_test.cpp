// REDIS_ENDPOINT forms.
#include <gtest/gtest.h>

#include "cache/redis_client.h"

namespace isvc::cache {
namespace {

TEST(RedisEndpoint, ParsesUrlAndHostPortForms) {
  auto a = parse_redis_endpoint("redis://:s3cret@cache.internal:6380/2");
  EXPECT_EQ(a.host, "cache.internal");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.password, "s3cret");
  EXPECT_EQ(a.db, 2);
  auto b = parse_redis_endpoint("10.0.0.5");
  EXPECT_EQ(b.host, "10.0.0.5");
  EXPECT_EQ(b.port, 6379);
  EXPECT_EQ(b.db, 0);
  EXPECT_EQ(parse_redis_endpoint("redis://user:pw@h:1").password, "pw");
  for (const char* bad : {"rediss://h:6379", "redis://h:0", "redis://h:99999", "redis://h:x",
                          "redis://:6379", "redis://h:6379/db"})
    EXPECT_THROW(parse_redis_endpoint(bad), std::invalid_argument) << bad;
}

}  // namespace
}  // namespace isvc::cache
