// The legacy row ↔ record mappings of the migration toolkit.
#include <gtest/gtest.h>

#include "migrate/legacy_mapping.h"

namespace isvc::migrate {
namespace {

std::vector<std::string> tags(const char* json) {
  std::string why;
  auto t = tags_from_jsonb(std::optional<std::string>(json), why);
  EXPECT_TRUE(t) << why;
  return t.value_or(std::vector<std::string>{"<refused>"});
}

TEST(LegacyTags, EveryJsonbShape) {
  EXPECT_EQ(tags(R"(["castle", "loire"])"), (std::vector<std::string>{"castle", "loire"}));
  EXPECT_EQ(tags(R"("solo")"), std::vector<std::string>{"solo"});
  EXPECT_EQ(tags(R"(42)"), std::vector<std::string>{"42"});
  EXPECT_EQ(tags(R"({"a": "x", "b": "y"})"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(tags(R"(["a", null, 7, true])"), (std::vector<std::string>{"a", "7", "true"}));
  EXPECT_TRUE(tags("null").empty());
  std::string why;
  EXPECT_TRUE(tags_from_jsonb(std::nullopt, why)->empty());
  EXPECT_FALSE(tags_from_jsonb(std::optional<std::string>(R"([["nested"]])"), why));
  EXPECT_NE(why.find("tags"), std::string::npos);
  EXPECT_FALSE(tags_from_jsonb(std::optional<std::string>("{not json"), why));
}

LegacyRow row() {
  LegacyRow r;
  r.id = "0bd4c5f4-5b7e-4c0e-9d8e-9a3f2c1b0a99";
  r.user_id = "5f0c2a9e-0000-4000-8000-00000000a11c";
  r.original_filename = "castle.jpg";
  r.mime_type = "image/jpeg";
  r.file_size = 1234;
  r.width = 4000;
  r.height = 3000;
  r.s3_key = "gallery/u/castle.jpg";
  r.tags_json = R"(["castle"])";
  r.created_at_ms = 1577836800000;
  r.updated_at_ms = 1577923200000;
  return r;
}

TEST(LegacyMapping, RowToRecordAndBack) {
  std::string why;
  auto rec = map_row(row(), "bucket", why);
  ASSERT_TRUE(rec) << why;
  EXPECT_EQ(rec->uploaded_at_ms, 1577836800000);
  EXPECT_EQ(rec->version, 1);
  EXPECT_EQ(rec->processing_status, "completed");
  EXPECT_EQ(rec->s3_bucket, "bucket");
  auto back = to_row(*rec, why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->id, row().id);
  EXPECT_EQ(back->tags_json, R"(["castle"])");
  EXPECT_EQ(back->width, 4000);
  EXPECT_EQ(back->updated_at_ms, 1577923200000);
}

TEST(LegacyMapping, RejectsNameTheReason) {
  std::string why;
  auto r = row();
  r.mime_type = "application/pdf";
  EXPECT_FALSE(map_row(r, "b", why));
  EXPECT_EQ(why.rfind("mimeType: ", 0), 0u) << why;
  r = row();
  r.description = std::string(5001, 'x');
  EXPECT_FALSE(map_row(r, "b", why));
  EXPECT_EQ(why.rfind("description: ", 0), 0u) << why;
  r = row();
  r.created_at_ms.reset();
  EXPECT_FALSE(map_row(r, "b", why));
  EXPECT_EQ(why, "createdAt: NULL");
}

TEST(LegacyMapping, ControlCharactersInSingleLineFieldsAreNormalisedNotRejected) {
  auto r = row();
  r.title = "Castle\nat night";
  r.alt_text = "\ta castle\t";
  r.original_filename = "castle\r\n.jpg";
  r.tags_json = R"(["sea\nside", "\u0007", "plain"])";
  r.description = "line 1\nline 2\tend\x01";
  std::string why, changed;
  auto rec = map_row(r, "b", why, &changed);
  ASSERT_TRUE(rec) << why;
  EXPECT_EQ(rec->title, "Castle at night");
  EXPECT_EQ(rec->alt_text, "a castle");
  EXPECT_EQ(rec->original_filename, "castle .jpg");
  EXPECT_EQ(rec->tags, (std::vector<std::string>{"sea side", "plain"}));
  EXPECT_EQ(rec->description, "line 1\nline 2\tend ");
  EXPECT_EQ(changed, "originalFilename,title,description,altText,tags");
  // Invisible format characters count as a normalisation too; an untouched row reports none.
  r = row();
  r.title = "photo\u202Egpj";
  EXPECT_EQ(map_row(r, "b", why, &changed)->title, "photogpj");
  EXPECT_EQ(changed, "title");
  EXPECT_TRUE(map_row(row(), "b", why, &changed));
  EXPECT_EQ(changed, "");
  // A name with nothing visible left is the name of a nameless upload.
  r = row();
  r.original_filename = "\n\t";
  EXPECT_EQ(map_row(r, "b", why, &changed)->original_filename, "upload");
  // Normalised on every run the same way: verify compares what migrate stored.
  r.title = "a\n\nb";
  EXPECT_EQ(*map_row(r, "b", why)->title, *map_row(r, "", why)->title);
}

TEST(LegacyMapping, KeysAreValidatedAndPrefixesApplied) {
  std::string why;
  auto r = row();
  r.s3_key = "../../x";
  EXPECT_FALSE(map_row(r, "b", why));
  EXPECT_EQ(why.rfind("s3Key: ", 0), 0u) << why;
  r = row();
  r.thumbnail_key = "temp/01J0000000000000000000000A";
  EXPECT_FALSE(map_row(r, "b", why));
  EXPECT_EQ(why.rfind("thumbnailKey: ", 0), 0u) << why;
  domain::ImportKeyPolicy p{{"gallery/u/"}};
  EXPECT_TRUE(map_row(row(), "b", why, nullptr, p)) << why;
  p.allowed_prefixes = {"other/"};
  EXPECT_FALSE(map_row(row(), "b", why, nullptr, p));
  EXPECT_EQ(why.rfind("s3Key: ", 0), 0u) << why;
}

TEST(LegacyMapping, ServiceIdsInTheLegacyColumns) {
  // The ULID spec's example and the UUID with the same 128 bits.
  EXPECT_EQ(ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FAV"), "01563e3a-b5d3-d676-4c61-efb99302bd5b");
  std::string why;
  auto rec = map_row(row(), "b", why);
  rec->id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  EXPECT_EQ(to_row(*rec, why)->id, "01563e3a-b5d3-d676-4c61-efb99302bd5b");
  rec->user_id = "alice";
  EXPECT_FALSE(to_row(*rec, why));
  EXPECT_NE(why.find("userId"), std::string::npos);
}

}  // namespace
}  // namespace isvc::migrate
