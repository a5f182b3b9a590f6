#include "domain/model/image_record.h"

#include <cmath>

namespace isvc::domain {

double aspect_ratio(int width, int height) {
  if (width <= 0 || height <= 0) return 1.0;
  return std::round(static_cast<double>(width) / height * 1000.0) / 1000.0;
}

void keep_placeholders(const ImageRecord& cur, ImageRecord& next) {
  if (next.thumbhash || next.dominant_color || cur.s3_key != next.s3_key) return;
  next.thumbhash = cur.thumbhash;
  next.dominant_color = cur.dominant_color;
}

}  // namespace isvc::domain
