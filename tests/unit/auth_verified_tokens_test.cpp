// The verified-token cache: hits until the expiry it was given and only under the same keys, and
// a byte bound that empties it rather than letting distinct tokens grow it without limit.
#include "auth/verified_tokens.h"

#include <gtest/gtest.h>

#include <string>

namespace isvc::auth {
namespace {

Principal user(std::string s) {
  Principal p;
  p.subject = std::move(s);
  return p;
}

TEST(VerifiedTokens, HitsUntilItsExpiryAndOnlyUnderTheSameKeys) {
  VerifiedTokens c;
  c.put("a.b.c", user("u1"), 100, 7);
  ASSERT_TRUE(c.find("a.b.c", 100, 7));
  EXPECT_EQ(c.find("a.b.c", 100, 7)->subject, "u1");
  EXPECT_FALSE(c.find("a.b.c", 101, 7));  // past until_s
  EXPECT_FALSE(c.find("a.b.c", 50, 8));   // the keys changed
  EXPECT_FALSE(c.find("a.b.d", 50, 7));
  EXPECT_FALSE(c.find(std::string_view("a.b.c", 4), 50, 7));  // a prefix is another token
}

TEST(VerifiedTokens, DistinctTokensNeverHoldMoreThanTheByteBound) {
  VerifiedTokens c;
  const std::string body(400, 'x');
  std::size_t peak = 0, entries_at_peak = 0;
  bool emptied = false;
  for (int i = 0; i < 20000; ++i) {  // 20,000 x ~500 bytes: more than twice the bound
    std::size_t before = c.size();
    c.put(body + std::to_string(i), user("user"), 1000, 1);
    if (c.size() < before) emptied = true;
    if (c.bytes() > peak) {
      peak = c.bytes();
      entries_at_peak = c.size();
    }
    ASSERT_LE(c.bytes(), VerifiedTokens::kMaxBytes);
  }
  EXPECT_TRUE(emptied);
  EXPECT_GT(peak, VerifiedTokens::kMaxBytes - 1024);  // it does fill up to the bound
  EXPECT_GT(entries_at_peak, 8000u);
  // The same token again costs nothing more.
  std::size_t b = c.bytes();
  c.put(body + "19999", user("user"), 1000, 1);
  EXPECT_EQ(c.bytes(), b);
}

}  // namespace
}  // namespace isvc::auth
