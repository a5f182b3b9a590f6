// JPEG: the marker segments, found the way libjpeg finds them (after a segment or a scan, skip to
// the next 0xFF that is followed by neither 0x00, a fill 0xFF nor RSTn), so no segment can hide
// from the count. Caps the scans (libjpeg absorbs every scan of a progressive file before the
// first row, with no way to interrupt it), the segments (libjpeg appends each saved marker by
// walking its list: quadratic) and the size of APPn segments and of the ICC profile in them.
// Nothing here refuses a broken structure: libjpeg resynchronises and tolerates a missing EOI.
#include <cstring>

#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

namespace isvc::imaging {

namespace {

uint8_t at(std::string_view b, std::size_t p) {
  return static_cast<uint8_t>(b[p]);
}

// Position of the next marker code byte at or after p (the byte after its 0xFF), or npos.
std::size_t next_marker(std::string_view b, std::size_t p) {
  while (p < b.size()) {
    auto ff = static_cast<const char*>(std::memchr(b.data() + p, 0xFF, b.size() - p));
    if (!ff) return std::string_view::npos;
    std::size_t i = static_cast<std::size_t>(ff - b.data()) + 1;
    while (i < b.size() && at(b, i) == 0xFF) ++i;  // fill bytes
    if (i >= b.size()) return std::string_view::npos;
    if (at(b, i) != 0x00) return i;  // 0xFF00 is a stuffed data byte
    p = i + 1;
  }
  return std::string_view::npos;
}

// Markers without a length: SOI, EOI (handled by the caller), TEM, RST0-7.
bool parameterless(uint8_t m) {
  return m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7);
}

}  // namespace

WalkResult walk_jpeg(std::string_view b, const ProcessingLimits& lim) {
  WalkResult r;
  auto& s = r.stats;
  if (b.size() < 2 || at(b, 0) != 0xFF || at(b, 1) != 0xD8) {
    r.refusal = detail::structure("malformed_container", "not a JPEG (no SOI marker)");
    return r;
  }
  int64_t app_bytes = 0;
  for (std::size_t p = 2;;) {
    std::size_t m_at = next_marker(b, p);
    if (m_at == std::string_view::npos || m_at + 2 >= b.size()) break;  // no EOI: libjpeg's call
    uint8_t m = at(b, m_at);
    if (m == 0xD9) break;  // EOI: anything after it (a thumbnail, a ZIP) is not read
    p = m_at + 1;
    if (parameterless(m)) continue;
    std::size_t len = std::size_t(at(b, p)) << 8 | at(b, p + 1);
    // A length below 2 is read by libjpeg as an empty segment.
    std::size_t payload = len >= 2 ? len - 2 : 0;
    std::string_view data = b.substr(p + 2, payload);  // clipped at the end of the file
    p += 2 + payload;
    if (++s.chunks > lim.max_chunks) {
      r.refusal = detail::limit(
          "jpeg_too_many_segments",
          "the JPEG has more than " + std::to_string(lim.max_chunks) + " marker segments");
      return r;
    }
    if (m == 0xDA && ++s.scans > lim.jpeg_max_scans) {
      r.refusal =
          detail::limit("jpeg_too_many_scans",
                        "the JPEG has more than " + std::to_string(lim.jpeg_max_scans) + " scans");
      return r;
    }
    if (m < 0xE0 || m > 0xEF) continue;  // APP0..APP15 from here on
    app_bytes += static_cast<int64_t>(len);
    s.metadata_bytes = app_bytes;
    if (m == 0xE2 && data.size() >= 14 &&
        data.substr(0, 12) == std::string_view("ICC_PROFILE\0", 12)) {
      // ICC_PROFILE, NUL, sequence number, count: the rest is a piece of the profile.
      s.icc_bytes += static_cast<int64_t>(data.size() - 14);
      if (s.icc_bytes > lim.max_icc_bytes) {
        r.refusal = detail::limit("jpeg_icc_too_large", "the JPEG's ICC profile exceeds " +
                                                            detail::size_text(lim.max_icc_bytes));
        return r;
      }
    }
    if (app_bytes > lim.max_metadata_bytes) {
      r.refusal = detail::limit("jpeg_app_segments_too_large",
                                "the JPEG's APPn segments (EXIF, XMP, ICC, …) exceed " +
                                    detail::size_text(lim.max_metadata_bytes));
      return r;
    }
  }
  return r;
}

}  // namespace isvc::imaging
