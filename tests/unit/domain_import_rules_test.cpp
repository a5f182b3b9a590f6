// What a service import may point at (validate_import_key) and what map_legacy stores.
#include <gtest/gtest.h>

#include "domain/legacy_import.h"
#include "domain/model/error.h"

namespace isvc::domain {
namespace {

std::string refused_field(std::string_view key, const std::string& user = "u1",
                          const ImportKeyPolicy& p = {}) {
  try {
    validate_import_key("s3Key", key, user, p);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::ValidationFailed);
    return e.details().at("field");
  }
}

TEST(ImportKeys, RefusesKeysThatEscapeOrAreNotKeys) {
  for (const std::string& k :
       std::vector<std::string>{"",
                                "../../x",
                                "a/../x",
                                "a/..",
                                "..",
                                ".",
                                "a/./b",
                                "/etc/passwd",
                                "a//b",
                                "a/",
                                "http://evil.example/x",
                                "https:x",
                                "javascript:alert(1)",
                                "c:\\x",
                                "a\\b",
                                "a\x01"
                                "b",
                                "a\x7F",
                                "a\xC2\x85",
                                "bad\xC3",
                                std::string(501, 'k'),
                                std::string(400, 'k') + "/" + std::string(150, 'k')})
    EXPECT_EQ(refused_field(k), "s3Key") << k;
  // 500 code points are fine even when they are 1000 bytes; 1025 bytes are not.
  std::string e500;
  for (int i = 0; i < 500; ++i) e500 += "é";
  EXPECT_EQ(refused_field(e500), "");
  std::string long_bytes = "k/";
  for (int i = 0; i < 342; ++i) long_bytes += "€";  // 3 bytes each: 1028 bytes, 344 chars
  EXPECT_EQ(refused_field(long_bytes), "s3Key");
  for (const char* ok : {"gallery/u1/castle.jpg", "a", "a/b:c/d.jpg", "12 30.jpg", "ü/ö.png"})
    EXPECT_EQ(refused_field(ok), "") << ok;
}

TEST(ImportKeys, TheServiceNamespacesAreTheOwnersOnly) {
  EXPECT_EQ(refused_field("temp/01J0000000000000000000000A"), "s3Key");
  EXPECT_EQ(refused_field("temp/x", "temp"), "s3Key");
  EXPECT_EQ(refused_field("images/u1/01J0000000000000000000000A.webp", "u1"), "");
  EXPECT_EQ(refused_field("images/u1/thumbnails/x.webp", "u1"), "");
  EXPECT_EQ(refused_field("images/u1/x.webp", "u2"), "s3Key");
  EXPECT_EQ(refused_field("images/u1x/x.webp", "u1"), "s3Key");
  EXPECT_EQ(refused_field("images/x.webp", "u1"), "s3Key");
  // The folder is the encoded id (SPEC §12): "a b" lives in images/a%20b/.
  EXPECT_EQ(refused_field("images/a%20b/x.webp", "a b"), "");
  EXPECT_EQ(refused_field("images/a b/x.webp", "a b"), "s3Key");
  EXPECT_EQ(refused_field("Images/u1/x.webp", "u2"), "");  // keys are case-sensitive
}

TEST(ImportKeys, AllowedPrefixesWithTheUserPlaceholder) {
  ImportKeyPolicy p{{"legacy/{userId}/", "shared/"}};
  EXPECT_EQ(refused_field("legacy/u1/a.jpg", "u1", p), "");
  EXPECT_EQ(refused_field("shared/a.jpg", "u1", p), "");
  EXPECT_EQ(refused_field("legacy/u2/a.jpg", "u1", p), "s3Key");
  EXPECT_EQ(refused_field("legacy/u1", "u1", p), "s3Key");
  EXPECT_EQ(refused_field("other/a.jpg", "u1", p), "s3Key");
  EXPECT_EQ(refused_field("legacy/a%2Fb/x.jpg", "a/b", p), "");
  EXPECT_EQ(refused_field("legacy/a/b/x.jpg", "a/b", p), "s3Key");
}

LegacyRecord row() {
  LegacyRecord l;
  l.id = "123e4567-e89b-12d3-a456-426614174000";
  l.user_id = "u1";
  l.original_filename = "photo\u202Egpj.exe";
  l.mime_type = "image/jpeg";
  l.s3_key = "gallery/u1/1.jpg";
  l.thumbnail_key = "";
  l.title = "ti\u200Btle";
  l.description = "de\u2066scription\nline 2";
  l.alt_text = "\uFEFFalt";
  l.tags = {"ta\u200Fg", "\u200B", "keep\u200Dme"};
  l.created_at_ms = 1000;
  return l;
}

TEST(MapLegacy, DisplayFieldsLoseInvisibleCharacters) {
  auto r = map_legacy(row(), "bucket");
  EXPECT_EQ(r.original_filename, "photogpj.exe");
  EXPECT_EQ(r.title, "title");
  EXPECT_EQ(r.description, "description\nline 2");
  EXPECT_EQ(r.alt_text, "alt");
  EXPECT_EQ(r.tags, (std::vector<std::string>{"tag", "keep\u200Dme"}));
  EXPECT_EQ(r.thumbnail_key, std::nullopt);  // an empty key is no thumbnail
}

TEST(MapLegacy, KeysAreValidatedForTheRecordsOwner) {
  auto l = row();
  l.thumbnail_key = "images/u2/thumbnails/x.webp";
  try {
    map_legacy(l, "bucket");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.details().at("field"), "thumbnailKey");
  }
  l.thumbnail_key = "images/u1/thumbnails/x.webp";
  EXPECT_NO_THROW(map_legacy(l, "bucket"));
  EXPECT_THROW(map_legacy(l, "bucket", {}, ImportKeyPolicy{{"elsewhere/"}}), Error);
}

}  // namespace
}  // namespace isvc::domain
