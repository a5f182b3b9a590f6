// The libvips adapter's settings: the SPEC's sizes and qualities, the WebP effort, and the caps
// that refuse image bombs before and during decoding.
#pragma once

#include <cstdint>
#include <vector>

#include "domain/ports/image_processor.h"

namespace isvc::imaging {

struct ProcessingLimits {
  int min_dimension = 100;
  int max_dimension = 8000;
  int main_max = 2048;
  int main_quality = 85;
  int thumb_size = 400;
  int thumb_quality = 80;
  int webp_effort = 4;
  // Responsive variants (domain/variants.h): WebP at main_quality; AVIF (libheif's AV1 encoder,
  // libaom) at this quality and effort (docs/benchmarks.md has the measurements behind them).
  int avif_quality = 68;
  int avif_effort = 2;
  // SUPPORTED_FORMATS: a sniffed format not listed is refused with 400 INVALID_FILE_TYPE, like
  // bytes of no known format.
  std::vector<domain::ImageFormat> accepted_formats = {
      domain::ImageFormat::Jpeg, domain::ImageFormat::Png, domain::ImageFormat::Webp};

  // Image bombs (docs/security.md "Image bombs"): the container is walked before decoding and
  // these caps refuse a file with 400 INVALID_IMAGE and details.reason.
  int64_t max_metadata_bytes = 8 << 20;  // IMAGE_MAX_METADATA_BYTES: text/ICC/EXIF/XMP, inflated
  int64_t max_icc_bytes = 4 << 20;       // IMAGE_MAX_ICC_BYTES: one embedded ICC profile
  int64_t max_chunks = 5000;             // IMAGE_MAX_CHUNKS: PNG chunks, JPEG segments, WebP chunks
  int64_t jpeg_max_scans = 100;          // JPEG_MAX_SCANS: SOS segments (as djpeg -maxscans)
  int64_t webp_max_frames = 1000;        // WEBP_MAX_FRAMES: ANMF chunks
  // HEIF grid tiles of the primary image, each a separate HEVC/AV1 decode (no setting: a 12 MP
  // iPhone photo has 48, an 8000x8000 grid of 256-px tiles 1024).
  int64_t heif_max_tiles = 1024;
  // HEIF_MAX_PIXELS: HEIC/AVIF only, width x height upright. libheif decodes a whole image in one
  // call (no strip streaming, the deadline cannot stop it): a 1 KB flat 8000x8000 AVIF cost
  // 5.5-7.2 s and ~850 MB. At 4096x4096 the worst is about a quarter of that; a 12 MP phone
  // photo (4032x3024) fits.
  int64_t heif_max_pixels = 4096 * 4096;
  // PROCESSING_TIMEOUT_MS: wall-clock budget of one process() call; libvips work is killed past
  // it (400 INVALID_IMAGE, reason processing_timeout). 0 = no deadline.
  int processing_timeout_ms = 10000;
};

}  // namespace isvc::imaging
