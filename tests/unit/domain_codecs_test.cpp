// ULIDs, cursors and base64url.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/cursor_codec.h"
#include "domain/model/error.h"
#include "domain/ulid.h"

namespace isvc::domain {
namespace {

TEST(Ulid, MonotonicAndWellFormedEvenWithAFrozenClock) {
  ManualClock clock(1736937000000);
  UlidGenerator gen(clock);
  std::string prev;
  for (int i = 0; i < 10000; ++i) {
    auto id = gen.next();
    ASSERT_TRUE(is_ulid(id)) << id;
    ASSERT_GT(id, prev);
    prev = id;
  }
  // The first 10 chars encode the millisecond timestamp.
  ManualClock fixed(0x0123456789AB);
  UlidGenerator gen2(fixed);
  auto id = gen2.next();
  EXPECT_EQ(id.substr(0, 10), "014D2PF2DB");
}

TEST(Ulid, Validation) {
  EXPECT_TRUE(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_FALSE(is_ulid("01arz3ndektsv4rrffq69g5fav"));
  EXPECT_FALSE(is_ulid("81ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_FALSE(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FA"));
  EXPECT_FALSE(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAI"));
  EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_FALSE(is_image_id("../etc/passwd"));
}

TEST(Base64Url, RoundTripsAndRefusesNonCanonicalInput) {
  std::mt19937 rng(3);
  for (int n = 0; n < 200; ++n) {
    std::string s(std::size_t(n), '\0');
    for (auto& c : s) c = char(rng());
    auto enc = base::base64url_encode(s);
    EXPECT_EQ(
        enc.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_EQ(base::base64url_decode(enc), s);
  }
  EXPECT_EQ(base::base64url_encode("f"), "Zg");
  EXPECT_EQ(base::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base::base64url_decode("Zh"), std::nullopt);  // non-zero trailing bits
  EXPECT_EQ(base::base64url_decode("Z"), std::nullopt);
  EXPECT_EQ(base::base64url_decode("Zg+/"), std::nullopt);
  EXPECT_EQ(base::base64_encode("fo"), "Zm8=");
}

TEST(PercentDecode, StrictAboutMalformedEscapes) {
  EXPECT_EQ(base::percent_decode("a%20b%2fc%2F"), "a b/c/");
  EXPECT_EQ(base::percent_decode("%E2%9C%93"), "\xE2\x9C\x93");
  EXPECT_EQ(base::percent_decode("plain"), "plain");
  EXPECT_EQ(base::percent_decode("%"), std::nullopt);
  EXPECT_EQ(base::percent_decode("%2"), std::nullopt);
  EXPECT_EQ(base::percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(base::percent_decode("%00"), std::string(1, '\0'));
}

TEST(ParseCount, DigitsOnlyAndWithinInt64) {
  EXPECT_EQ(base::parse_count("0"), 0);
  EXPECT_EQ(base::parse_count("10400000"), 10400000);
  EXPECT_EQ(base::parse_count("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "9223372036854775808"})
    EXPECT_EQ(base::parse_count(bad), std::nullopt) << bad;
}

TEST(Hashes, MatchPublishedVectors) {
  EXPECT_EQ(base::hex_encode(base::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2
  EXPECT_EQ(base::hex_encode(base::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

struct CursorTest : ::testing::Test {
  CursorCodec codec{"secret"};
  CursorScope scope{"alice", std::string("album"), std::nullopt, false};
  domain::ListPosition pos{1736937000123, "01ARZ3NDEKTSV4RRFFQ69G5FAV"};
};

bool rejected(const CursorCodec& c, const std::string& cursor, const CursorScope& s) {
  try {
    c.decode(cursor, s);
    return false;
  } catch (const Error& e) {
    return e.code() == ErrorCode::InvalidCursor;
  }
}

TEST_F(CursorTest, RoundTripsAndIsUrlSafe) {
  auto c = codec.encode(pos, scope);
  EXPECT_EQ(c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(codec.decode(c, scope), pos);
}

TEST_F(CursorTest, BoundToCallerFiltersOrderAndSecret) {
  auto c = codec.encode(pos, scope);
  auto other = scope;
  other.user_id = "bob";
  EXPECT_TRUE(rejected(codec, c, other));
  other = scope;
  other.album_id = "album2";
  EXPECT_TRUE(rejected(codec, c, other));
  other.album_id.reset();
  EXPECT_TRUE(rejected(codec, c, other));
  other = scope;
  other.tag = "";
  EXPECT_TRUE(rejected(codec, c, other));
  other = scope;
  other.ascending = true;
  EXPECT_TRUE(rejected(codec, c, other));
  EXPECT_TRUE(rejected(CursorCodec("other"), c, scope));
  // sortBy and duplicatesOf are bound; a scope without them is the old one (old cursors stay).
  other = scope;
  other.sort_by = SortBy::TakenAt;
  EXPECT_TRUE(rejected(codec, c, other));
  EXPECT_EQ(codec.decode(codec.encode(pos, other), other), pos);
  other = scope;
  other.duplicates_of = "01J00000000000000000000001";
  EXPECT_TRUE(rejected(codec, c, other));
  auto dup = codec.encode(pos, other);
  other.duplicates_of = "01J00000000000000000000002";
  EXPECT_TRUE(rejected(codec, dup, other));
  // ("a","bc") and ("ab","c") splits of the same bytes must differ.
  CursorScope s1{"a", std::string("bc"), {}, false}, s2{"ab", std::string("c"), {}, false};
  EXPECT_TRUE(rejected(codec, codec.encode(pos, s1), s2));
}

TEST_F(CursorTest, EveryMutationAndTruncationIsRejected) {
  auto c = codec.encode(pos, scope);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = 0; i < c.size(); ++i) {
    for (char ch : alphabet) {
      if (ch == c[i]) continue;
      auto m = c;
      m[i] = ch;
      ASSERT_TRUE(rejected(codec, m, scope)) << i;
    }
    ASSERT_TRUE(rejected(codec, c.substr(0, i), scope));
  }
  EXPECT_TRUE(rejected(codec, c + "A", scope));
}

TEST_F(CursorTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(11);
  for (int i = 0; i < 10000; ++i) {
    std::string s(rng() % 80, '\0');
    for (auto& ch : s) ch = char(rng());
    ASSERT_TRUE(rejected(codec, s, scope));
  }
  EXPECT_TRUE(rejected(codec, std::string(600, 'A'), scope));
}

}  // namespace
}  // namespace isvc::domain
