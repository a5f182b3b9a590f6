// Container walkers: read the structure of a PNG, JPEG, WebP or HEIF file (chunks, markers, RIFF
// chunks, ISO-BMFF boxes) before any decoder sees it, and refuse image bombs — files whose
// metadata, chunk, scan or frame counts would cost the decoder far more than their size. Pure
// functions over bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ports/image_processor.h"
#include "imaging/processing_limits.h"

namespace isvc::imaging {

struct ContainerRefusal {
  // Limit: a cap was passed (a bomb); refused before any decoder runs. Structure: the container
  // is broken in a way the format's own decoder also refuses (truncated chunk, impossible
  // length); refused after the header dimensions, so broken files keep the SPEC's order of codes.
  enum class Kind { Limit, Structure };
  Kind kind = Kind::Structure;
  std::string reason;   // snake_case, e.g. "png_text_too_large" (details.reason)
  std::string message;  // for the client
};

// What a walk saw (tests and fuzzers check these; docs/security.md quotes them for the corpora).
struct WalkStats {
  int64_t chunks = 0;          // PNG chunks, JPEG marker segments, WebP RIFF chunks
  int64_t scans = 0;           // JPEG SOS segments
  int64_t frames = 0;          // WebP ANMF chunks
  int64_t metadata_bytes = 0;  // text/ICC/EXIF/XMP, inflated where compressed
  int64_t icc_bytes = 0;       // largest embedded ICC profile (inflated)
  int64_t inflated_bytes = 0;  // zlib output produced while measuring (the walk's own cost)
  int64_t tiles = 0;           // HEIF: the primary image's grid tiles (1 without a grid)
};

// The primary image's size as a HEIF header declares it (ispe, then clap and irot in their
// order): upright, what the decoder will produce.
struct HeaderSize {
  int64_t width = 0;
  int64_t height = 0;
};

struct WalkResult {
  std::optional<ContainerRefusal> refusal;
  WalkStats stats;
  std::optional<HeaderSize> header;  // HEIF only: the other formats' sizes come from libvips
};

WalkResult walk_png(std::string_view bytes, const ProcessingLimits& limits);
WalkResult walk_jpeg(std::string_view bytes, const ProcessingLimits& limits);
WalkResult walk_webp(std::string_view bytes, const ProcessingLimits& limits);
// HEIC or AVIF (the brand of sniff_format): refuses what libheif would misread or pay too much
// for, and finds the primary image's upright size without decoding (imaging/heif_walk.cpp).
WalkResult walk_heif(std::string_view bytes, const ProcessingLimits& limits);
// Dispatches on the sniffed format (Unknown: no refusal, nothing to walk).
WalkResult walk_container(domain::ImageFormat format, std::string_view bytes,
                          const ProcessingLimits& limits);

// True for every reason a walker can give; fuzzers check refusals against it.
bool is_container_reason(std::string_view reason);

namespace detail {
ContainerRefusal limit(const char* reason, std::string message);
ContainerRefusal structure(const char* reason, std::string message);
std::string size_text(int64_t bytes);  // "8 MiB", "1500 bytes"
inline uint32_t be32(std::string_view b, std::size_t p) {
  return uint32_t(uint8_t(b[p])) << 24 | uint32_t(uint8_t(b[p + 1])) << 16 |
         uint32_t(uint8_t(b[p + 2])) << 8 | uint32_t(uint8_t(b[p + 3]));
}
inline uint64_t be64(std::string_view b, std::size_t p) {
  return uint64_t(be32(b, p)) << 32 | be32(b, p + 4);
}
inline uint32_t le32(std::string_view b, std::size_t p) {
  return uint32_t(uint8_t(b[p])) | uint32_t(uint8_t(b[p + 1])) << 8 |
         uint32_t(uint8_t(b[p + 2])) << 16 | uint32_t(uint8_t(b[p + 3])) << 24;
}
}  // namespace detail

}  // namespace isvc::imaging
