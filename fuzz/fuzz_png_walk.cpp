// The PNG container walker on arbitrary bytes (PNG chunks: signature, IHDR first, lengths,
// text/ICC/EXIF inflated): the properties of check_walk.h.
#include "check_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  isvc::fuzz::check_walker(isvc::imaging::walk_png, "png_", data, size);
  return 0;
}
