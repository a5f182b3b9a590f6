#include "domain/exif_bounds.h"

#include <cmath>
#include <limits>

#include "domain/model/error.h"
#include "domain/validation.h"

namespace isvc::domain {

namespace {

std::string trim_spaces(std::string s) {
  auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// Valid UTF-8 (else dropped), no controls or invisible format characters, at most kMaxExifText
// code points, cut on a character boundary.
void bound_text(std::optional<std::string>& v) {
  if (!v) return;
  std::string s = trim_spaces(strip_invisible(collapse_controls(*v, false)));
  try {
    validate_text("exif", s, std::numeric_limits<std::size_t>::max());
  } catch (const Error&) {
    v.reset();
    return;
  }
  std::size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((uint8_t(s[i]) & 0xC0) == 0x80) continue;
    if (chars++ == kMaxExifText) break;
  }
  s.resize(i);
  s = trim_spaces(std::move(s));
  if (s.empty())
    v.reset();
  else
    v = std::move(s);
}

template <class T>
void keep_if(std::optional<T>& v, T lo, T hi) {
  if (v && !(std::isfinite(double(*v)) && *v >= lo && *v <= hi)) v.reset();
}

double round4(double v) {
  return std::round(v * 10000.0) / 10000.0;
}

}  // namespace

std::optional<ExifFacts> bound_exif(ExifFacts f, bool keep_gps) {
  bound_text(f.make);
  bound_text(f.model);
  bound_text(f.lens);
  if (f.taken_at && !taken_at_ms(f)) {
    // A broken offset loses only the offset; a broken date and time loses the field.
    f.taken_at = f.taken_at->substr(0, 19);
    if (!taken_at_ms(f)) f.taken_at.reset();
  }
  if (!f.exposure_num || !f.exposure_den || *f.exposure_num <= 0 || *f.exposure_den <= 0 ||
      double(*f.exposure_num) / double(*f.exposure_den) > 3600.0) {
    f.exposure_num.reset();
    f.exposure_den.reset();
  }
  keep_if(f.f_number, 0.5, 1000.0);
  keep_if<int64_t>(f.iso, 1, 10'000'000);
  keep_if(f.focal_length_mm, 0.1, 100'000.0);
  if (f.f_number) f.f_number = std::round(*f.f_number * 100.0) / 100.0;
  if (f.focal_length_mm) f.focal_length_mm = std::round(*f.focal_length_mm * 100.0) / 100.0;
  keep_if(f.gps_latitude, -90.0, 90.0);
  keep_if(f.gps_longitude, -180.0, 180.0);
  if (!keep_gps || !f.gps_latitude || !f.gps_longitude) {
    f.gps_latitude.reset();
    f.gps_longitude.reset();
  } else {
    f.gps_latitude = round4(*f.gps_latitude);
    f.gps_longitude = round4(*f.gps_longitude);
  }
  if (f.empty()) return std::nullopt;
  return f;
}

}  // namespace isvc::domain
