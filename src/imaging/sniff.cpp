#include <cstring>

#include "imaging/image_processor.h"

namespace isvc::imaging {

ImageFormat sniff_format(std::string_view b) {
  auto at = [&](std::size_t off, const char* magic, std::size_t n) {
    return b.size() >= off + n && std::memcmp(b.data() + off, magic, n) == 0;
  };
  if (at(0, "\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (at(0, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::Png;
  if (at(0, "RIFF", 4) && at(8, "WEBP", 4)) return ImageFormat::Webp;
  return ImageFormat::Unknown;
}

const char* mime_type(ImageFormat f) {
  switch (f) {
    case ImageFormat::Jpeg:
      return "image/jpeg";
    case ImageFormat::Png:
      return "image/png";
    case ImageFormat::Webp:
      return "image/webp";
    case ImageFormat::Unknown:
      break;
  }
  return "application/octet-stream";
}

}  // namespace isvc::imaging
