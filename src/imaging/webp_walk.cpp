// WebP: the RIFF chunk list (RIFF size against the file, every chunk and its padding inside the
// RIFF data, as libwebp's demuxer requires), the number of chunks and of animation frames (libvips
// 8.14 looks every frame up from the start of the list: quadratic in the frame count), and the
// size of the ICCP, EXIF and XMP chunks.
#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

namespace isvc::imaging {

using detail::le32;

WalkResult walk_webp(std::string_view b, const ProcessingLimits& lim) {
  WalkResult r;
  auto& s = r.stats;
  auto refuse = [&](ContainerRefusal c) {
    r.refusal = std::move(c);
    return r;
  };
  if (b.size() < 12 || b.substr(0, 4) != "RIFF" || b.substr(8, 4) != "WEBP")
    return refuse(detail::structure("malformed_container", "not a RIFF/WEBP file"));
  uint64_t riff = le32(b, 4);
  if (riff < 12) return refuse(detail::structure("malformed_container", "RIFF size too small"));
  if (riff > b.size() - 8)
    return refuse(
        detail::structure("truncated_container", "the file is shorter than its RIFF size"));
  const std::size_t end = 8 + std::size_t(riff);  // bytes after the RIFF data are ignored
  for (std::size_t p = 12; p < end;) {
    if (end - p < 8)
      return refuse(detail::structure("truncated_container", "the RIFF data ends inside a chunk"));
    std::string_view id = b.substr(p, 4);
    uint64_t len = le32(b, p + 4);
    uint64_t padded = len + (len & 1);
    if (padded > end - p - 8)
      return refuse(
          detail::structure("truncated_container", "a WebP chunk runs past the RIFF data"));
    if (++s.chunks > lim.max_chunks)
      return refuse(
          detail::limit("webp_too_many_chunks",
                        "the WebP has more than " + std::to_string(lim.max_chunks) + " chunks"));
    if (id == "ANMF" && ++s.frames > lim.webp_max_frames)
      return refuse(detail::limit(
          "webp_too_many_frames",
          "the WebP animation has more than " + std::to_string(lim.webp_max_frames) + " frames"));
    if (id == "ICCP" || id == "EXIF" || id == "XMP ") {
      if (id == "ICCP") {
        s.icc_bytes = std::max(s.icc_bytes, int64_t(len));
        if (int64_t(len) > lim.max_icc_bytes)
          return refuse(detail::limit(
              "webp_icc_too_large",
              "the WebP's ICC profile exceeds " + detail::size_text(lim.max_icc_bytes)));
      }
      s.metadata_bytes += int64_t(len);
      if (s.metadata_bytes > lim.max_metadata_bytes)
        return refuse(detail::limit("webp_metadata_too_large",
                                    "the WebP's metadata (ICC, EXIF, XMP) exceeds " +
                                        detail::size_text(lim.max_metadata_bytes)));
    }
    p += 8 + std::size_t(padded);
  }
  return r;
}

}  // namespace isvc::imaging
