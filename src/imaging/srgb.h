// Colour management: every decoded image leaves as 8-bit sRGB. ICC profiles are applied through
// lcms with a rendering intent the profile really supports; a profile that cannot be used is
// ignored and reported, never a reason to fail the upload.
#pragma once

#include <string>
#include <string_view>
#include <vips/vips8>

#include "domain/ports/image_processor.h"

namespace isvc::imaging {

// How an image's colours are read, decided before any pixel is transformed.
struct ColourSource {
  enum class Kind {
    Assumed,   // no usable profile: sRGB (grey, RGB) or libvips' built-in CMYK profile
    Embedded,  // the file's own ICC profile
    Implied,   // a PNG's gAMA/cHRM chunks, turned into a profile
  };
  Kind kind = Kind::Assumed;
  VipsIntent intent = VIPS_INTENT_RELATIVE;
  std::string ignored;  // why an embedded profile was not used; empty when none was ignored
};

// Decides how `img` (as loaded from `bytes` of format `f`) is read, and attaches the implied
// profile of a PNG to it. Exposed for the tests; to_srgb8 calls it.
ColourSource choose_colour_source(vips::VImage& img, domain::ImageFormat f, std::string_view bytes);

// Converts to sRGB with 8 bits per band, keeping an alpha band when there is one.
vips::VImage to_srgb8(vips::VImage img, domain::ImageFormat f, std::string_view bytes);

// The ICC profile that a PNG's gAMA and cHRM chunks describe, when it has no sRGB or iCCP chunk
// and they differ from sRGB; empty otherwise. `grey` picks a grey profile.
std::string png_chunk_profile(std::string_view png, bool grey);

}  // namespace isvc::imaging
