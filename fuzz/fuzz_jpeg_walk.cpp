// The JPEG container walker on arbitrary bytes (JPEG marker segments: scans, segments, APPn and ICC
// sizes): the properties of check_walk.h.
#include "check_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  isvc::fuzz::check_walker(isvc::imaging::walk_jpeg, "jpeg_", data, size);
  return 0;
}
