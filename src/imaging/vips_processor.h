// ImageProcessor on libvips 8.14: explicit JPEG/PNG/WebP loaders after sniffing (every other
// loader blocked), header-only probe, one strict decode, sRGB 8-bit (imaging/srgb.h), metadata
// stripped by hand (webpsave in 8.14 ignores `strip`), main and thumbnail encoded in parallel.
#pragma once

#include "imaging/image_processor.h"

namespace isvc::imaging {

// Once per process, before any processing: GLib's log writer (imaging/vips_log.h), VIPS_INIT,
// block untrusted loaders, no operation cache (bounded memory), `concurrency` threads per vips
// pipeline.
void init_vips(int concurrency);

class VipsProcessor final : public ImageProcessor {
 public:
  explicit VipsProcessor(ProcessingLimits limits) : limits_(limits) {}
  ProcessedImage process(std::string_view bytes, const ProcessContext& ctx = {}) override;
  ProbeResult probe(std::string_view bytes) override;

 private:
  ProcessingLimits limits_;
};

}  // namespace isvc::imaging
