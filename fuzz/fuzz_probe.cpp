// The image header probe (magic-byte sniffing, then libvips header reads or the HEIF box walk):
// arbitrary bytes are either refused with one of the SPEC's image error codes or yield dimensions
// within the limits.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domain/model/error.h"
#include "imaging/processing_limits.h"
#include "imaging/sniff.h"
#include "imaging/vips_processor.h"

using namespace isvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static imaging::VipsProcessor* processor = [] {
    imaging::init_vips(1);
    // Every format the service can accept, HEIC and AVIF included (their probe is the box walk).
    imaging::ProcessingLimits limits;
    limits.accepted_formats = {domain::ImageFormat::Jpeg, domain::ImageFormat::Png,
                               domain::ImageFormat::Webp, domain::ImageFormat::Heic,
                               domain::ImageFormat::Avif};
    return new imaging::VipsProcessor(limits);
  }();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto sniffed = imaging::sniff_format(bytes);
  try {
    auto r = processor->probe(bytes);
    if (r.format != sniffed || r.format == domain::ImageFormat::Unknown) std::abort();
    if (r.width < 100 || r.height < 100 || r.width > 8000 || r.height > 8000) std::abort();
  } catch (const domain::Error& e) {
    auto c = e.code();
    if (c != domain::ErrorCode::InvalidFileType && c != domain::ErrorCode::InvalidImage &&
        c != domain::ErrorCode::InvalidDimensions)
      std::abort();
    if (sniffed == domain::ImageFormat::Unknown && c != domain::ErrorCode::InvalidFileType)
      std::abort();
  }
  return 0;
}
