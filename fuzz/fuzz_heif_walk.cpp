// The HEIF box walker on arbitrary bytes (ISO-BMFF box sizes, the item model, grids, transforms):
// the properties of check_walk.h, and an accepted file always has a positive primary image size.
#include "check_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  isvc::fuzz::check_walker(isvc::imaging::walk_heif, "heif_", data, size);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto r = isvc::imaging::walk_heif(bytes, isvc::fuzz::small_limits());
  if (!r.refusal) {
    isvc::fuzz::require(r.header && r.header->width > 0 && r.header->height > 0);
    isvc::fuzz::require(r.stats.tiles >= 1 &&
                        r.stats.tiles <= isvc::fuzz::small_limits().heif_max_tiles);
  }
  return 0;
}
