#include "api/file_cache.h"

#include <gtest/gtest.h>

namespace isvc::api {
namespace {

CachedObject obj(std::size_t n) {
  return CachedObject{domain::ObjectInfo{int64_t(n), 0, "e", "image/webp"},
                      std::make_shared<const std::string>(n, 'x')};
}

TEST(FileCache, EvictsLeastRecentlyUsedByBytes) {
  FileCache c(300, 200);
  c.put("a", obj(100));
  c.put("b", obj(100));
  c.put("c", obj(100));
  ASSERT_TRUE(c.get("a"));  // a is now most recent
  c.put("d", obj(100));     // evicts b
  EXPECT_TRUE(c.get("a"));
  EXPECT_FALSE(c.get("b"));
  EXPECT_TRUE(c.get("c"));
  EXPECT_TRUE(c.get("d"));
  EXPECT_EQ(c.size_bytes(), 300);
}

TEST(FileCache, SkipsOversizeObjectsAndErases) {
  FileCache c(1000, 200);
  c.put("big", obj(201));
  EXPECT_FALSE(c.get("big"));
  c.put("a", obj(50));
  c.put("a", obj(60));
  EXPECT_EQ(c.size_bytes(), 60);
  c.erase("a");
  EXPECT_FALSE(c.get("a"));
  EXPECT_EQ(c.size_bytes(), 0);
  EXPECT_EQ(c.entries(), 0u);
}

}  // namespace
}  // namespace isvc::api
