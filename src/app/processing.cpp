#include "app/processing.h"

namespace isvc::app {

imaging::ProcessingLimits processing_limits(const Config& cfg) {
  imaging::ProcessingLimits limits;
  limits.webp_effort = cfg.webp_effort;
  limits.processing_timeout_ms = cfg.processing_timeout_ms;
  limits.max_metadata_bytes = cfg.image_max_metadata_bytes;
  limits.max_icc_bytes = cfg.image_max_icc_bytes;
  limits.max_chunks = cfg.image_max_chunks;
  limits.heif_max_pixels = cfg.heif_max_pixels;
  limits.jpeg_max_scans = cfg.jpeg_max_scans;
  limits.webp_max_frames = cfg.webp_max_frames;
  // SUPPORTED_FORMATS: the processor refuses the other sniffed formats, direct uploads their types.
  limits.accepted_formats.clear();
  for (const auto& f : cfg.supported_formats)
    limits.accepted_formats.push_back(f == "jpeg"   ? domain::ImageFormat::Jpeg
                                      : f == "png"  ? domain::ImageFormat::Png
                                      : f == "heic" ? domain::ImageFormat::Heic
                                      : f == "avif" ? domain::ImageFormat::Avif
                                                    : domain::ImageFormat::Webp);
  return limits;
}

}  // namespace isvc::app
