// The takenAt sort key, exiftool's exposure text, the bounds on strings and numbers, and the
// JSON form the stores keep.
#include <gtest/gtest.h>

#include "domain/exif_bounds.h"
#include "domain/model/exif_facts.h"
#include "domain/model/image_record.h"

using namespace isvc::domain;

TEST(ExifFacts, TakenAtKeyAppliesTheOffsetOrReadsLocalTimeAsUtc) {
  ExifFacts f;
  f.taken_at = "2023-07-14T18:30:05";
  EXPECT_EQ(taken_at_ms(f), 1689359405000);
  f.taken_at = "2023-07-14T18:30:05+02:00";
  EXPECT_EQ(taken_at_ms(f), 1689359405000 - 7200000);
  f.taken_at = "2023-07-14T18:30:05-05:30";
  EXPECT_EQ(taken_at_ms(f), 1689359405000 + 19800000);
  f.taken_at = "1969-12-31T23:59:59";
  EXPECT_EQ(taken_at_ms(f), -1000);
  for (const char* bad : {"2023-07-14", "2023-07-14T18:30:05Z", "2023-07-14T18:30:05+2:00",
                          "2023-02-30X18:30:05", "abcd-07-14T18:30:05"}) {
    f.taken_at = bad;
    EXPECT_EQ(taken_at_ms(f), std::nullopt) << bad;
  }
  ImageRecord r;
  r.uploaded_at_ms = 5;
  EXPECT_EQ(taken_sort_key(r), 5);  // no facts: the upload time
}

TEST(ExifFacts, ExposureTextAsExiftoolPrintsIt) {
  EXPECT_EQ(exposure_text(1, 250), "1/250");
  EXPECT_EQ(exposure_text(10, 600), "1/60");
  EXPECT_EQ(exposure_text(1, 3), "0.3");  // exiftool: a fraction only up to 1/4 s
  EXPECT_EQ(exposure_text(1, 4), "1/4");
  EXPECT_EQ(exposure_text(1, 2), "0.5");
  EXPECT_EQ(exposure_text(2, 1), "2");
  EXPECT_EQ(exposure_text(13, 10), "1.3");
}

TEST(ExifFacts, BoundsStripCutAndDrop) {
  ExifFacts f;
  f.make = "  Cam\u202Eera\x01 ";
  f.model = std::string(200, 'M');
  f.lens = "\xFF\xFE bad utf8";
  f.iso = 0;
  f.f_number = -1;
  f.focal_length_mm = 1e9;
  f.exposure_num = 1;
  f.exposure_den = 0;
  auto b = bound_exif(f, false);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->make, "Camera");
  EXPECT_EQ(b->model, std::string(kMaxExifText, 'M'));
  EXPECT_EQ(b->lens, std::nullopt);
  EXPECT_EQ(b->iso, std::nullopt);
  EXPECT_EQ(b->f_number, std::nullopt);
  EXPECT_EQ(b->focal_length_mm, std::nullopt);
  EXPECT_EQ(b->exposure_num, std::nullopt);
  EXPECT_EQ(bound_exif(ExifFacts{}, true), std::nullopt);
  ExifFacts g;
  g.gps_latitude = 91;
  g.gps_longitude = 10;
  EXPECT_EQ(bound_exif(g, true), std::nullopt);  // out of range: nothing left
  // A multi-byte character is never cut in half.
  ExifFacts u;
  u.model = std::string(63, 'a') + "é€";
  EXPECT_EQ(bound_exif(u, false)->model, std::string(63, 'a') + "é");
}

TEST(ExifFacts, JsonRoundTripsAndRefusesGarbage) {
  ExifFacts f;
  f.taken_at = "2023-07-14T18:30:05+02:00";
  f.make = "Ça\"me\\ra";
  f.exposure_num = 1;
  f.exposure_den = 8000;
  f.f_number = 1.78;
  f.iso = 64;
  f.focal_length_mm = 5.1;
  f.gps_latitude = -33.8688;
  f.gps_longitude = 151.2093;
  EXPECT_EQ(decode_exif(encode_exif(f)), f);
  EXPECT_EQ(decode_exif(encode_exif(ExifFacts{})), ExifFacts{});
  EXPECT_EQ(decode_exif("not json"), std::nullopt);
  EXPECT_EQ(decode_exif(R"({"t":5})"), std::nullopt);
  EXPECT_EQ(decode_exif(R"({"en":1})"), std::nullopt);
}
