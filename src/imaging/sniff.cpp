#include <cstring>

#include "domain/ports/image_processor.h"
#include "imaging/container_check.h"
#include "imaging/sniff.h"

namespace isvc::imaging {

namespace {

// HEIF brands that name the primary image's codec (ISO/IEC 23008-12 Annex B, AV1-ISOBMFF): the
// generic mif1/msf1/miaf say nothing about it and are not enough on their own.
domain::ImageFormat heif_brand(std::string_view brand) {
  for (const char* b : {"heic", "heix", "heim", "heis", "hevc", "hevx"})
    if (brand == b) return domain::ImageFormat::Heic;
  if (brand == "avif" || brand == "avis") return domain::ImageFormat::Avif;
  return domain::ImageFormat::Unknown;
}

// An ISO-BMFF file starting with `ftyp`: the major brand decides when it names a codec, then the
// first compatible brand that does. A box size outside the file is read as far as the file goes.
domain::ImageFormat sniff_ftyp(std::string_view b) {
  if (b.size() < 16 || b.substr(4, 4) != "ftyp") return domain::ImageFormat::Unknown;
  std::size_t size = detail::be32(b, 0);
  if (size < 16) return domain::ImageFormat::Unknown;  // 0 (to the end) or 1 (64-bit) never here
  size = std::min(size, b.size());
  if (auto f = heif_brand(b.substr(8, 4)); f != domain::ImageFormat::Unknown) return f;
  for (std::size_t p = 16; p + 4 <= size; p += 4)
    if (auto f = heif_brand(b.substr(p, 4)); f != domain::ImageFormat::Unknown) return f;
  return domain::ImageFormat::Unknown;
}

}  // namespace

domain::ImageFormat sniff_format(std::string_view b) {
  auto at = [&](std::size_t off, const char* magic, std::size_t n) {
    return b.size() >= off + n && std::memcmp(b.data() + off, magic, n) == 0;
  };
  if (at(0, "\xFF\xD8\xFF", 3)) return domain::ImageFormat::Jpeg;
  if (at(0, "\x89PNG\r\n\x1a\n", 8)) return domain::ImageFormat::Png;
  if (at(0, "RIFF", 4) && at(8, "WEBP", 4)) return domain::ImageFormat::Webp;
  return sniff_ftyp(b);
}

const char* mime_type(domain::ImageFormat f) {
  switch (f) {
    case domain::ImageFormat::Jpeg:
      return "image/jpeg";
    case domain::ImageFormat::Png:
      return "image/png";
    case domain::ImageFormat::Webp:
      return "image/webp";
    case domain::ImageFormat::Heic:
      return "image/heic";
    case domain::ImageFormat::Avif:
      return "image/avif";
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
      case ImageFormat::Heic:
        names += "HEIC";
        break;
      case ImageFormat::Avif:
        names += "AVIF";
        break;
      case ImageFormat::Unknown:
        break;
    }
  }
  return "only " + names + " images are accepted";
}

}  // namespace isvc::imaging
