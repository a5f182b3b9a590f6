// The WEBP container walker on arbitrary bytes (WebP RIFF chunks: sizes and padding, frames,
// chunks, ICCP/EXIF/XMP sizes): the properties of check_walk.h.
#include "check_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  isvc::fuzz::check_walker(isvc::imaging::walk_webp, "webp_", data, size);
  return 0;
}
