// Properties every container walker must have on arbitrary bytes, beyond "no crash" (ASan and
// UBSan watch the reads): a refusal carries a known reason of its own format and the right kind;
// counts stay within the limits that let the file pass; the walk's own zlib work is bounded by
// the metadata cap; and a walk under larger limits is never stricter (same structural verdict).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

namespace isvc::fuzz {

using imaging::ContainerRefusal;
using imaging::ProcessingLimits;
using imaging::WalkResult;

// Small enough that the fuzzer reaches every cap with inputs of a few KiB.
inline ProcessingLimits small_limits() {
  ProcessingLimits l;
  l.max_metadata_bytes = 64 << 10;
  l.max_icc_bytes = 16 << 10;
  l.max_chunks = 48;
  l.jpeg_max_scans = 12;
  l.webp_max_frames = 8;
  l.heif_max_tiles = 8;
  return l;
}

inline ProcessingLimits large_limits() {
  ProcessingLimits l = small_limits();
  l.max_metadata_bytes *= 4;
  l.max_icc_bytes *= 4;
  l.max_chunks *= 4;
  l.jpeg_max_scans *= 4;
  l.webp_max_frames *= 4;
  l.heif_max_tiles *= 4;
  return l;
}

inline void require(bool ok) {
  if (!ok) std::abort();
}

inline void check_one(const WalkResult& r, const ProcessingLimits& l, std::string_view prefix,
                      std::size_t size) {
  const auto& s = r.stats;
  require(s.inflated_bytes <= l.max_metadata_bytes + 16384);  // bounded by the cap, not the bomb
  require(s.chunks <= l.max_chunks + 1 && s.chunks <= int64_t(size));
  if (!r.refusal) {
    require(s.chunks <= l.max_chunks && s.scans <= l.jpeg_max_scans &&
            s.frames <= l.webp_max_frames && s.tiles <= l.heif_max_tiles &&
            s.metadata_bytes <= l.max_metadata_bytes && s.icc_bytes <= l.max_icc_bytes);
    return;
  }
  const std::string& why = r.refusal->reason;
  require(imaging::is_container_reason(why) && !r.refusal->message.empty());
  bool structural = why == "truncated_container" || why == "malformed_container";
  require(structural == (r.refusal->kind == ContainerRefusal::Kind::Structure));
  require(structural || why.rfind(prefix, 0) == 0);  // a PNG is never refused for its scans
}

template <class Walk>
void check_walker(Walk walk, std::string_view prefix, const uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ProcessingLimits small = small_limits(), large = large_limits();
  WalkResult a = walk(bytes, small);
  WalkResult b = walk(bytes, large);
  check_one(a, small, prefix, size);
  check_one(b, large, prefix, size);
  if (!a.refusal) require(!b.refusal);
  if (a.refusal && a.refusal->kind == ContainerRefusal::Kind::Structure)
    require(b.refusal && b.refusal->reason == a.refusal->reason);
  WalkResult again = walk(bytes, small);  // pure: the same bytes, the same verdict
  require(again.refusal.has_value() == a.refusal.has_value() &&
          again.stats.chunks == a.stats.chunks);
}

}  // namespace isvc::fuzz
