// The camera facts kept from an original's EXIF (docs/exif.md): bounded, sanitised values only,
// never the EXIF block itself. What may be kept is decided by domain/exif_bounds.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isvc::domain {

struct ExifFacts {
  // DateTimeOriginal as "YYYY-MM-DDTHH:MM:SS", followed by OffsetTimeOriginal ("+02:00") when the
  // camera wrote one; without it the time is the camera's local time of unknown zone.
  std::optional<std::string> taken_at;
  std::optional<std::string> make;
  std::optional<std::string> model;
  std::optional<std::string> lens;        // LensModel
  std::optional<int64_t> exposure_num;    // ExposureTime as the rational the camera wrote
  std::optional<int64_t> exposure_den;    // (both set or neither; den > 0)
  std::optional<double> f_number;         // FNumber
  std::optional<int64_t> iso;             // ISOSpeedRatings (first value)
  std::optional<double> focal_length_mm;  // FocalLength
  std::optional<double> gps_latitude;     // degrees, north positive (EXIF_KEEP_GPS only)
  std::optional<double> gps_longitude;    // degrees, east positive

  bool empty() const;
  bool operator==(const ExifFacts&) const = default;
};

// The sort key of sortBy=takenAt: taken_at in Unix ms, the offset applied when there is one and
// the local time read as if it were UTC when there is none. nullopt when taken_at is absent or
// not of the form above.
std::optional<int64_t> taken_at_ms(const ExifFacts& f);

// ExposureTime as exiftool prints it: "1/250" below a quarter second, else seconds ("0.5", "2").
std::string exposure_text(int64_t num, int64_t den);

// A compact JSON document of the facts, for stores that keep them as one value (SQLite column,
// DynamoDB attribute, the Redis record codec). decode returns nullopt on anything else.
std::string encode_exif(const ExifFacts& f);
std::optional<ExifFacts> decode_exif(std::string_view text);

}  // namespace isvc::domain
