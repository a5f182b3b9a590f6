#include "domain/model/image_record.h"

#include <cmath>

namespace isvc::domain {

double aspect_ratio(int width, int height) {
  if (width <= 0 || height <= 0) return 1.0;
  return std::round(static_cast<double>(width) / height * 1000.0) / 1000.0;
}

void keep_placeholders(const ImageRecord& cur, ImageRecord& next) {
  // The facts of the same original stay too (a legacy row has neither).
  if (cur.s3_key == next.s3_key) {
    if (!next.exif) next.exif = cur.exif;
    if (!next.sha256) next.sha256 = cur.sha256;
  }
  if (next.thumbhash || next.dominant_color || cur.s3_key != next.s3_key) return;
  next.thumbhash = cur.thumbhash;
  next.dominant_color = cur.dominant_color;
}

int64_t taken_sort_key(const ImageRecord& r) {
  if (r.exif)
    if (auto t = taken_at_ms(*r.exif)) return *t;
  return r.uploaded_at_ms;
}

}  // namespace isvc::domain
