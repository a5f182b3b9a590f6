#include "domain/validation.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "base/time_format.h"
#include "domain/model/error.h"
#include "domain/model/object_keys.h"

namespace isvc::domain {
namespace {

std::string field_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::ValidationFailed);
    return e.details().count("field") ? e.details().at("field") : "?";
  }
  return "";
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ValidateText, CountsCodePointsNotBytes) {
  EXPECT_EQ(field_of([] { validate_text("title", repeat("é", 255), 255); }), "");
  EXPECT_EQ(field_of([] { validate_text("title", repeat("é", 256), 255); }), "title");
  EXPECT_EQ(field_of([] { validate_text("title", repeat("😀", 255), 255); }), "");
  EXPECT_EQ(field_of([] { validate_text("title", "bad\xC3", 255); }), "title");
  EXPECT_EQ(field_of([] { validate_text("title", "\xC0\xAF", 255); }), "title");      // overlong
  EXPECT_EQ(field_of([] { validate_text("title", "\xED\xA0\x80", 255); }), "title");  // surrogate
  EXPECT_EQ(field_of([] { validate_text("title", "a\x01", 255); }), "title");
  EXPECT_EQ(field_of([] { validate_text("title", "a\nb", 255); }), "title");
  EXPECT_EQ(field_of([] { validate_text("description", "a\nb\tc", 5000, true); }), "");
}

TEST(Tags, NormalisedAndBounded) {
  EXPECT_EQ(normalize_tags({" castle ", "", "medieval", "castle", "  "}),
            (std::vector<std::string>{"castle", "medieval"}));
  std::vector<std::string> twenty, twentyone;
  for (int i = 0; i < 21; ++i) (i < 20 ? twenty : twentyone).push_back("t" + std::to_string(i));
  twentyone.insert(twentyone.begin(), twenty.begin(), twenty.end());
  EXPECT_EQ(normalize_tags(twenty).size(), 20u);
  EXPECT_EQ(field_of([&] { normalize_tags(twentyone); }), "tags");
  EXPECT_EQ(field_of([] { normalize_tags({std::string(51, 'a')}); }), "tags");
  EXPECT_EQ(normalize_tags({repeat("ü", 50)}).size(), 1u);
}

TEST(Tags, TheThreeFormShapes) {
  EXPECT_EQ(tags_from_form_values({"a", "b"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(tags_from_form_values({R"( ["castle","medieval"])"}),
            (std::vector<std::string>{"castle", "medieval"}));
  EXPECT_EQ(tags_from_form_values({"castle"}), (std::vector<std::string>{"castle"}));
  EXPECT_EQ(field_of([] { tags_from_form_values({"[1,2]"}); }), "tags");
  EXPECT_EQ(field_of([] { tags_from_form_values({"[\"a\""}); }), "tags");
}

TEST(AlbumId, CharsetAndLength) {
  EXPECT_EQ(field_of([] { validate_album_id("123e4567-e89b-12d3-a456-426614174000"); }), "");
  EXPECT_EQ(field_of([] { validate_album_id(std::string(128, 'a')); }), "");
  EXPECT_EQ(field_of([] { validate_album_id(std::string(129, 'a')); }), "albumId");
  EXPECT_EQ(field_of([] { validate_album_id(""); }), "albumId");
  EXPECT_EQ(field_of([] { validate_album_id("a b"); }), "albumId");
  EXPECT_EQ(field_of([] { validate_album_id("../x"); }), "albumId");
}

TEST(Filename, SanitisedAndTruncated) {
  EXPECT_EQ(sanitize_filename("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitize_filename("C:\\Users\\me\\pic.jpg"), "pic.jpg");
  EXPECT_EQ(sanitize_filename("a\r\nSet-Cookie: x\".jpg"), "aSet-Cookie: x.jpg");
  EXPECT_EQ(sanitize_filename(""), "upload");
  EXPECT_EQ(sanitize_filename(".."), "upload");
  EXPECT_EQ(sanitize_filename("dir/"), "upload");
  EXPECT_EQ(sanitize_filename(repeat("é", 300)), repeat("é", 255));
  EXPECT_EQ(sanitize_filename("ok\xFF.jpg"), "ok.jpg");
}

TEST(Keys, UserIdsCannotEscapeTheirPrefix) {
  EXPECT_EQ(main_object_key("user-1_a.b", "X"), "images/user-1_a.b/X.webp");
  EXPECT_EQ(thumbnail_object_key("u", "X"), "images/u/thumbnails/X.webp");
  EXPECT_EQ(encode_user_id_for_key(".."), "%2E%2E");
  EXPECT_EQ(encode_user_id_for_key("."), "%2E");
  EXPECT_EQ(encode_user_id_for_key("a/../b"), "a%2F..%2Fb");
  EXPECT_EQ(encode_user_id_for_key("a@b.com"), "a%40b.com");
  EXPECT_EQ(encode_user_id_for_key(std::string("a\0b", 3)), "a%00b");
}

TEST(Timestamps, FormatAndParse) {
  EXPECT_EQ(base::format_iso8601_ms(1736937000000), "2025-01-15T10:30:00.000Z");
  EXPECT_EQ(base::format_iso8601_ms(1736937000123), "2025-01-15T10:30:00.123Z");
  EXPECT_EQ(base::parse_iso8601_ms("2025-01-15T10:30:00Z"), 1736937000000);
  EXPECT_EQ(base::parse_iso8601_ms("2025-01-15T10:30:00.123Z"), 1736937000123);
  EXPECT_EQ(base::parse_iso8601_ms("2025-01-15T10:30:00.123456Z"), 1736937000123);
  EXPECT_EQ(base::parse_iso8601_ms("2025-01-15T12:30:00+02:00"), 1736937000000);
  EXPECT_EQ(base::parse_iso8601_ms("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(base::parse_iso8601_ms("2025-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(base::parse_iso8601_ms("2025-01-15 10:30:00Z"), std::nullopt);
  EXPECT_EQ(base::parse_iso8601_ms("2025-01-15T10:30:00"), std::nullopt);
  EXPECT_EQ(base::parse_iso8601_ms("2025-13-15T10:30:00Z"), std::nullopt);
  for (int64_t ms : {0LL, 951782400000LL, 4102444799999LL})
    EXPECT_EQ(base::parse_iso8601_ms(base::format_iso8601_ms(ms)), ms);
}

// The formatter is arithmetic; glibc's gmtime_r is the independent reference, over years 0001
// to 9999 (before 1970 included) and every millisecond digit.
TEST(Timestamps, FormatMatchesGmtimeAcrossTheFourDigitYears) {
  std::mt19937_64 rng(42);
  const int64_t lo = -62135596800000LL, hi = 253402300799999LL;  // 0001-01-01 .. 9999-12-31
  std::vector<int64_t> samples{lo, hi, -1, 0, 1, 951782400000LL, 1709164800000LL - 1};
  for (int i = 0; i < 20000; ++i) samples.push_back(lo + int64_t(rng() % uint64_t(hi - lo)));
  for (int64_t ms : samples) {
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  int(ms - secs * 1000));
    ASSERT_EQ(base::format_iso8601_ms(ms), buf) << ms;
  }
}

}  // namespace
}  // namespace isvc::domain
