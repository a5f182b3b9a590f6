// Port: turn untrusted upload bytes into the two WebP outputs. Adapter: imaging/vips_processor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace isvc::imaging {

enum class ImageFormat { Unknown, Jpeg, Png, Webp };

// Detects the format from magic bytes only (never from names or declared types).
ImageFormat sniff_format(std::string_view bytes);
const char* mime_type(ImageFormat f);  // "image/jpeg", …

struct ProbeResult {
  ImageFormat format = ImageFormat::Unknown;
  int width = 0;  // upright (after EXIF orientation)
  int height = 0;
};

struct ProcessedImage {
  ProbeResult probe;
  std::string main_webp;   // fits inside 2048x2048, never enlarged, q85
  std::string thumb_webp;  // exactly 400x400 cover crop, q80
  int main_width = 0;
  int main_height = 0;
};

struct ProcessingLimits {
  int min_dimension = 100;
  int max_dimension = 8000;
  int main_max = 2048;
  int main_quality = 85;
  int thumb_size = 400;
  int thumb_quality = 80;
  int webp_effort = 4;

  // Image bombs (docs/security.md "Image bombs"): the container is walked before decoding and
  // these caps refuse a file with 400 INVALID_IMAGE and details.reason.
  int64_t max_metadata_bytes = 8 << 20;  // IMAGE_MAX_METADATA_BYTES: text/ICC/EXIF/XMP, inflated
  int64_t max_icc_bytes = 4 << 20;       // IMAGE_MAX_ICC_BYTES: one embedded ICC profile
  int64_t max_chunks = 5000;             // IMAGE_MAX_CHUNKS: PNG chunks, JPEG segments, WebP chunks
  int64_t jpeg_max_scans = 100;          // JPEG_MAX_SCANS: SOS segments (as djpeg -maxscans)
  int64_t webp_max_frames = 1000;        // WEBP_MAX_FRAMES: ANMF chunks
  // PROCESSING_TIMEOUT_MS: wall-clock budget of one process() call; libvips work is killed past
  // it (400 INVALID_IMAGE, reason processing_timeout). 0 = no deadline.
  int processing_timeout_ms = 10000;
};

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
};

}  // namespace isvc::imaging
