#include "api/file_request.h"

#include <gtest/gtest.h>

#include <random>

namespace isvc::api {
namespace {

http::Request with(std::initializer_list<std::pair<std::string, std::string>> headers) {
  http::Request r;
  for (auto& h : headers) r.headers.push_back(h);
  return r;
}

TEST(DecodeFileKey, AcceptsPlainKeys) {
  EXPECT_EQ(decode_file_key("images/u1/01ARZ3NDEKTSV4RRFFQ69G5FAV.webp"),
            "images/u1/01ARZ3NDEKTSV4RRFFQ69G5FAV.webp");
  EXPECT_EQ(decode_file_key("images/a%2540b/thumbnails/x.webp"), "images/a%40b/thumbnails/x.webp");
}

TEST(DecodeFileKey, RefusesTraversalAndOddKeys) {
  for (const char* k :
       {"", "../etc/passwd", "images/../../etc/passwd", "images/%2e%2e/x", "images/./x",
        "images//x", "images/x/", "/images/x", "images\\x", "images/a%5c..%5cb", "images/%00x",
        "temp/x", "images/%2", "images/%zz", "metadata.db", "images/%2F%2E%2E%2Fsecret"}) {
    EXPECT_EQ(decode_file_key(k), std::nullopt) << k;
  }
}

TEST(EncodeKeyForUrl, KeepsSafeCharactersAndEncodesTheRest) {
  EXPECT_EQ(encode_key_for_url("images/u-1_a.b/x.webp"), "images/u-1_a.b/x.webp");
  EXPECT_EQ(encode_key_for_url("images/a%40b/x.webp"), "images/a%2540b/x.webp");
  EXPECT_EQ(decode_file_key(encode_key_for_url("images/a%40b/x.webp")), "images/a%40b/x.webp");
  // Escapes first, last, adjacent and alone; bytes above 0x7f one by one.
  EXPECT_EQ(encode_key_for_url(" a  b "), "%20a%20%20b%20");
  EXPECT_EQ(encode_key_for_url("%"), "%25");
  EXPECT_EQ(encode_key_for_url(""), "");
  EXPECT_EQ(encode_key_for_url("\xc3\xa9/~x"), "%C3%A9/~x");
  std::string out = "https://cdn/";
  append_key_for_url(out, "a b");
  EXPECT_EQ(out, "https://cdn/a%20b");  // appended, what was there kept
}

TEST(HttpDate, FormatsAndParsesImfFixdate) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date(format_http_date(1767225600)), 1767225600);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("garbage"), std::nullopt);
}

TEST(Conditional, IfNoneMatchWinsOverIfModifiedSince) {
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "\"abc\""}}), "\"abc\"", 100));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "W/\"abc\""}}), "\"abc\"", 100));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "\"x\", \"abc\""}}), "\"abc\"", 100));
  EXPECT_TRUE(not_modified(with({{"If-None-Match", "*"}}), "\"abc\"", 100));
  EXPECT_FALSE(
      not_modified(with({{"If-None-Match", "\"x\""}, {"If-Modified-Since", format_http_date(200)}}),
                   "\"abc\"", 100));
  EXPECT_TRUE(not_modified(with({{"If-Modified-Since", format_http_date(100)}}), "\"a\"", 100));
  EXPECT_FALSE(not_modified(with({{"If-Modified-Since", format_http_date(99)}}), "\"a\"", 100));
  EXPECT_FALSE(not_modified(with({}), "\"a\"", 100));
}

TEST(Range, ParsesTheThreeSingleRangeForms) {
  auto r = parse_single_range("bytes=0-99", 1000);
  EXPECT_EQ(r.kind, RangeKind::Satisfiable);
  EXPECT_EQ(r.first, 0);
  EXPECT_EQ(r.last, 99);
  r = parse_single_range("bytes=900-", 1000);
  EXPECT_EQ(r.first, 900);
  EXPECT_EQ(r.last, 999);
  r = parse_single_range("bytes=-100", 1000);
  EXPECT_EQ(r.first, 900);
  EXPECT_EQ(r.last, 999);
  r = parse_single_range("bytes=-5000", 1000);
  EXPECT_EQ(r.first, 0);
  r = parse_single_range("bytes=500-5000", 1000);
  EXPECT_EQ(r.last, 999);
}

TEST(Range, UnsatisfiableAndIgnored) {
  EXPECT_EQ(parse_single_range("bytes=1000-", 1000).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parse_single_range("bytes=-0", 1000).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parse_single_range("bytes=0-1,5-6", 1000).kind, RangeKind::Ignore);
  EXPECT_EQ(parse_single_range("items=0-1", 1000).kind, RangeKind::Ignore);
  EXPECT_EQ(parse_single_range("bytes=5-1", 1000).kind, RangeKind::Ignore);
  EXPECT_EQ(parse_single_range("bytes=abc", 1000).kind, RangeKind::Ignore);
  // Positions past what 64 bits hold are still positions (RFC 9110 §14.1.1): a start past the
  // end is unsatisfiable, an end past it is clamped.
  EXPECT_EQ(parse_single_range("bytes=99999999999999999999-", 1000).kind, RangeKind::Unsatisfiable);
  auto clamped = parse_single_range("bytes=0-18446744073709551615", 1000);
  EXPECT_EQ(clamped.kind, RangeKind::Satisfiable);
  EXPECT_EQ(clamped.first, 0);
  EXPECT_EQ(clamped.last, 999);
  auto suffix = parse_single_range("bytes=-99999999999999999999999", 1000);
  EXPECT_EQ(suffix.kind, RangeKind::Satisfiable);
  EXPECT_EQ(suffix.first, 0);
}

TEST(Range, RandomInputNeverYieldsAnOutOfBoundsRange) {
  std::mt19937 rng(42);
  const std::string alphabet = "bytes=-,0123456789 ";
  for (int i = 0; i < 20000; ++i) {
    std::string h = "bytes=";
    int n = int(rng() % 12);
    for (int j = 0; j < n; ++j) h += alphabet[rng() % alphabet.size()];
    int64_t size = int64_t(rng() % 2000);
    auto r = parse_single_range(h, size);
    if (r.kind == RangeKind::Satisfiable) {
      ASSERT_GE(r.first, 0) << h;
      ASSERT_LE(r.first, r.last) << h;
      ASSERT_LT(r.last, size) << h;
    }
  }
}

TEST(IfRange, AppliesOnlyOnStrongMatch) {
  EXPECT_TRUE(range_applies(with({}), "\"a\""));
  EXPECT_TRUE(range_applies(with({{"If-Range", "\"a\""}}), "\"a\""));
  EXPECT_FALSE(range_applies(with({{"If-Range", "W/\"a\""}}), "\"a\""));
  EXPECT_FALSE(range_applies(with({{"If-Range", "\"b\""}}), "\"a\""));
}

}  // namespace
}  // namespace isvc::api
