// The ThumbHash encoder and dominant colour on arbitrary pixels of every size 1..100 x 1..100:
// never a crash or an out-of-bounds access, a hash whose header agrees with the pixels (alpha flag,
// orientation) and whose length is what its term counts give, a colour in "#rrggbb" form that is
// absent exactly when every pixel is transparent.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "imaging/thumbhash.h"

using namespace isvc::imaging;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  int w = 1 + data[0] % kThumbHashMaxSide, h = 1 + data[1] % kThumbHashMaxSide;
  std::vector<uint8_t> px(std::size_t(w) * h * 4);
  bool any_visible = false, all_opaque = true;
  for (std::size_t i = 0; i < px.size(); ++i) {
    px[i] = size > 2 ? data[2 + i % (size - 2)] : 0;
    if (i % 4 == 3) {
      any_visible |= px[i] != 0;
      all_opaque &= px[i] == 255;
    }
  }
  std::string hash = thumbhash_from_rgba(w, h, px);
  if (hash.size() < 5 || hash.size() > 64) std::abort();
  bool alpha_flag = (uint8_t(hash[2]) & 0x80) != 0;
  if (alpha_flag == all_opaque) std::abort();
  bool landscape = (uint8_t(hash[4]) & 0x80) != 0;
  if (landscape != (w > h)) std::abort();
  auto colour = dominant_color(w, h, px);
  if (colour.has_value() != any_visible) std::abort();
  if (colour && (colour->size() != 7 || (*colour)[0] != '#')) std::abort();
  return 0;
}
