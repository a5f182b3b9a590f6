#include <cstring>

#include "domain/ports/image_processor.h"
#include "imaging/sniff.h"

namespace isvc::imaging {

domain::ImageFormat sniff_format(std::string_view b) {
  auto at = [&](std::size_t off, const char* magic, std::size_t n) {
    return b.size() >= off + n && std::memcmp(b.data() + off, magic, n) == 0;
  };
  if (at(0, "\xFF\xD8\xFF", 3)) return domain::ImageFormat::Jpeg;
  if (at(0, "\x89PNG\r\n\x1a\n", 8)) return domain::ImageFormat::Png;
  if (at(0, "RIFF", 4) && at(8, "WEBP", 4)) return domain::ImageFormat::Webp;
  return domain::ImageFormat::Unknown;
}

const char* mime_type(domain::ImageFormat f) {
  switch (f) {
    case domain::ImageFormat::Jpeg:
      return "image/jpeg";
    case domain::ImageFormat::Png:
      return "image/png";
    case domain::ImageFormat::Webp:
      return "image/webp";
    case domain::ImageFormat::Unknown:
      break;
  }
  return "application/octet-stream";
}

std::string accepted_formats_message(const std::vector<ImageFormat>& formats) {
  std::string names;
  for (std::size_t i = 0; i < formats.size(); ++i) {
    if (i > 0) names += i + 1 == formats.size() ? " and " : ", ";
    switch (formats[i]) {
      case ImageFormat::Jpeg:
        names += "JPEG";
        break;
      case ImageFormat::Png:
        names += "PNG";
        break;
      case ImageFormat::Webp:
        names += "WebP";
        break;
      case ImageFormat::Unknown:
        break;
    }
  }
  return "only " + names + " images are accepted";
}

}  // namespace isvc::imaging
