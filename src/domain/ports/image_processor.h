// Port: turn untrusted upload bytes into the two WebP outputs, and stored images into their
// responsive variants. Adapter: imaging/vips_processor
// (its limits and caps are its own settings: imaging/processing_limits.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/model/exif_facts.h"

namespace isvc::domain {

// Heic and Avif are HEIF files (ISO/IEC 23008-12) whose primary image is HEVC or AV1 coded.
enum class ImageFormat { Unknown, Jpeg, Png, Webp, Heic, Avif };

struct ProbeResult {
  ImageFormat format = ImageFormat::Unknown;
  int width = 0;  // upright (after EXIF orientation)
  int height = 0;
};

// What a gallery paints while the image loads, computed from the whole upright image (not the
// thumbnail's square crop) shrunk to fit 100x100 in sRGB with alpha (imaging/thumbhash.h).
struct Placeholders {
  std::string thumbhash;                      // ThumbHash bytes (about 25)
  std::optional<std::string> dominant_color;  // "#rrggbb"; none when every pixel is transparent
};

struct ProcessedImage {
  ProbeResult probe;
  std::string main_webp;   // fits inside 2048x2048, never enlarged, q85
  std::string thumb_webp;  // exactly 400x400 cover crop, q80
  int main_width = 0;
  int main_height = 0;
  Placeholders placeholders;  // from the main image, already in memory: no second decode
  // The original's EXIF facts as read (GPS included), before stripping; domain::bound_exif
  // decides what is kept. Empty when the file has no EXIF.
  ExifFacts exif;
};

// The encodings a responsive variant can have (domain/variants.h).
enum class VariantFormat { Avif, Webp };

// What a processing call is for, so that the adapter's log lines can name it.
struct ProcessContext {
  std::string request_id;  // the request being served; empty when there is none
};

class ImageProcessor {
 public:
  virtual ~ImageProcessor() = default;

  // Validates in SPEC order (type by magic → header dimensions → decodability) and produces both
  // outputs. Throws domain::Error with INVALID_FILE_TYPE / INVALID_DIMENSIONS / INVALID_IMAGE.
  virtual ProcessedImage process(std::string_view bytes, const ProcessContext& ctx = {}) = 0;

  // Header-only check (no full decode): format and upright dimensions, within limits.
  virtual ProbeResult probe(std::string_view bytes) = 0;

  // A responsive variant of an image the service stored (its main image): exactly width x height,
  // sRGB, no metadata, in `format`. Throws INVALID_IMAGE when the source cannot be decoded.
  virtual std::string render_variant(std::string_view source, int width, int height,
                                     VariantFormat format) = 0;
  // The placeholders of an image stored earlier (a main image or legacy file read back for the
  // backfill): decoded at a reduced size, under the same container caps and deadline as uploads
  // but without the upload's minimum dimensions. Throws INVALID_FILE_TYPE / INVALID_IMAGE.
  virtual Placeholders placeholders(std::string_view bytes, const ProcessContext& ctx = {}) = 0;
};

}  // namespace isvc::domain
