// The libvips side of the placeholders: an upright sRGB image shrunk to fit 100x100 as RGBA, and
// the ThumbHash and dominant colour of those pixels (imaging/thumbhash.h).
#pragma once

#include <functional>
#include <string>
#include <vips/vips8>

#include "domain/ports/image_processor.h"
#include "imaging/vips_deadline.h"

namespace isvc::imaging {

struct SmallRgba {
  int width = 0;
  int height = 0;
  std::string rgba;  // width*height*4 bytes, row-major, not premultiplied
};

// `upright` is 8-bit sRGB with 3 or 4 bands (imaging/srgb.h), already rotated. Never enlarges.
SmallRgba placeholder_pixels(const vips::VImage& upright, VipsDeadline& deadline);

domain::Placeholders placeholders_of(const SmallRgba& px);

// Receives the pixels the placeholders were computed from (the thumbhash check tool uses it).
using PlaceholderPixelsObserver = std::function<void(const SmallRgba&)>;

}  // namespace isvc::imaging
