// The EXIF reader and the bounds on arbitrary bytes (as an EXIF block, as ImageMagick's raw
// profile text, as a PNG): never a crash, an exception or an out-of-bounds access; what is kept
// always obeys the bounds (strings of at most kMaxExifText code points without controls, GPS only
// when asked and rounded) and survives the stores' JSON form unchanged.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domain/exif_bounds.h"
#include "imaging/exif_reader.h"

using namespace isvc;

namespace {

void check_text(const std::optional<std::string>& s) {
  if (!s) return;
  std::size_t cps = 0;
  for (unsigned char c : *s) {
    if ((c & 0xC0) != 0x80) ++cps;
    if (c < 0x20 || c == 0x7F) std::abort();
  }
  if (cps == 0 || cps > domain::kMaxExifText) std::abort();
}

void check(const domain::ExifFacts& raw) {
  for (bool gps : {false, true}) {
    auto b = domain::bound_exif(raw, gps);
    if (!b) continue;
    check_text(b->make);
    check_text(b->model);
    check_text(b->lens);
    if (b->taken_at && !domain::taken_at_ms(*b)) std::abort();
    if (!gps && (b->gps_latitude || b->gps_longitude)) std::abort();
    if (b->gps_latitude &&
        std::fabs(*b->gps_latitude * 1e4 - std::round(*b->gps_latitude * 1e4)) > 1e-6)
      std::abort();
    if (domain::decode_exif(domain::encode_exif(*b)) != *b) std::abort();
    if (b->exposure_num) (void)domain::exposure_text(*b->exposure_num, *b->exposure_den);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(imaging::read_exif(bytes));
  check(imaging::read_exif(imaging::raw_profile_bytes(bytes)));
  std::string png = "\x89PNG\r\n\x1a\n" + std::string(bytes);
  auto text = imaging::png_raw_profile_text(png, 1 << 20);
  if (text.size() > (1u << 20)) std::abort();
  check(imaging::read_exif(imaging::raw_profile_bytes(text)));
  return 0;
}
