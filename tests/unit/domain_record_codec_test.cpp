// The record JSON the Redis cache stores (domain/model/record_codec.h): every field round-trips,
// the placeholders included; a record without them (as every entry from before them) has no keys
// for them.
#include <gtest/gtest.h>

#include "domain/model/record_codec.h"

namespace isvc::domain {
namespace {

ImageRecord full() {
  ImageRecord r;
  r.id = "01J00000000000000000000001";
  r.user_id = "alice";
  r.album_id = "album";
  r.original_filename = "a.png";
  r.mime_type = "image/png";
  r.file_size = 10;
  r.processed_size = 6;
  r.thumbnail_size = 2;
  r.width = 400;
  r.height = 200;
  r.s3_key = "images/alice/01J00000000000000000000001.webp";
  r.s3_bucket = "local";
  r.thumbnail_key = "images/alice/thumbnails/01J00000000000000000000001.webp";
  r.title = "t";
  r.tags = {"a", "b"};
  r.created_at_ms = r.updated_at_ms = r.uploaded_at_ms = 1736937000123;
  r.version = 4;
  r.thumbhash = "ZAUKNJpwd3dweHh4iHeAcAf3iA==";
  r.dominant_color = "#2563b4";
  return r;
}

TEST(RecordCodec, RoundTripsEveryFieldWithPlaceholders) {
  auto r = full();
  EXPECT_EQ(decode_record(encode_record(r)), r);
  r.thumbhash.reset();
  r.dominant_color.reset();
  auto text = encode_record(r);
  EXPECT_EQ(text.find("\"th\""), std::string::npos);  // absent, not null
  EXPECT_EQ(decode_record(text), r);
}

// The variant list a store keeps: cached with the record (an empty list is not "no list").
TEST(RecordCodec, RoundTripsTheVariantList) {
  auto r = full();
  r.variant_keys = std::vector<std::string>{};
  EXPECT_EQ(decode_record(encode_record(r)), r);
  r.variant_keys = std::vector<std::string>{"images/alice/variants/x/320.webp"};
  r.variant_rev = 3;
  EXPECT_EQ(decode_record(encode_record(r)), r);
  r.variant_keys.reset();
  r.variant_rev = 0;
  auto text = encode_record(r);
  EXPECT_EQ(text.find("\"vk\""), std::string::npos) << text;
  EXPECT_EQ(decode_record(text)->variant_keys, std::nullopt);
}

TEST(RecordCodec, RoundTripsExifFactsAndHash) {
  auto r = full();
  ExifFacts f;
  f.taken_at = "2024-06-01T14:03:22+02:00";
  f.model = "Pixel \"8\"";
  f.exposure_num = 1;
  f.exposure_den = 120;
  f.f_number = 1.68;
  f.gps_latitude = 1.2345;
  f.gps_longitude = -7.5;
  r.exif = f;
  r.sha256 = std::string(64, '0');
  EXPECT_EQ(decode_record(encode_record(r)), r);
  // A cached document whose facts are garbage is not a record.
  auto text = encode_record(r);
  auto at = text.find("\"ex\":\"");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 6, "x");
  EXPECT_EQ(decode_record(text), std::nullopt);
}

}  // namespace
}  // namespace isvc::domain
