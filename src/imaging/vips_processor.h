// domain::ImageProcessor on libvips 8.14: explicit JPEG/PNG/WebP/HEIF loaders after sniffing
// (every other loader blocked), header-only probe (HEIF: from the box walk, libheif unused), one
// strict decode, sRGB 8-bit (imaging/srgb.h), metadata stripped by hand (webpsave in 8.14 ignores
// `strip`), main and thumbnail encoded in parallel.
#pragma once

#include "domain/ports/image_processor.h"
#include "imaging/processing_limits.h"
#include "imaging/vips_placeholders.h"

namespace isvc::imaging {

// Once per process, before any processing: GLib's log writer (imaging/vips_log.h), VIPS_INIT,
// block untrusted loaders, no operation cache (bounded memory), `concurrency` threads per vips
// pipeline.
void init_vips(int concurrency);

class VipsProcessor final : public domain::ImageProcessor {
 public:
  explicit VipsProcessor(ProcessingLimits limits) : limits_(limits) {}
  domain::ProcessedImage process(std::string_view bytes,
                                 const domain::ProcessContext& ctx = {}) override;
  domain::ProbeResult probe(std::string_view bytes) override;
  // Shrink-on-load from the stored main image (or a legacy original), sRGB 8-bit, exactly the
  // requested size; WebP at the main image's quality, AVIF (AV1) at limits.avif_quality/effort.
  std::string render_variant(std::string_view source, int width, int height,
                             domain::VariantFormat format) override;
  domain::Placeholders placeholders(std::string_view bytes,
                                    const domain::ProcessContext& ctx = {}) override;

  // Sees the pixels every later process()/placeholders() call computes the placeholders from.
  void observe_placeholder_pixels(PlaceholderPixelsObserver f) { observer_ = std::move(f); }

 private:
  // INVALID_DIMENSIONS outside the SPEC's minimum and maximum (upright) sizes.
  void check_dimensions(int width, int height) const;
  domain::Placeholders placeholders_from(const vips::VImage& upright, VipsDeadline& deadline);

  ProcessingLimits limits_;
  PlaceholderPixelsObserver observer_;
};

}  // namespace isvc::imaging
