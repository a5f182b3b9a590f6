// PNG: the chunk list (signature, IHDR first, lengths within the file), the number of chunks, and
// the size of text, ICC and EXIF metadata after inflation. Compressed chunks are inflated into a
// small scratch buffer that is thrown away, stopping as soon as the budget is passed, so the cost
// of a walk is bounded by the caps and the file size, never by what a bomb would expand to.
#include <zlib.h>

#include <algorithm>
#include <new>

#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

namespace isvc::imaging {

using detail::be32;

namespace {

class Inflater {
 public:
  Inflater() {
    if (inflateInit(&z_) != Z_OK) throw std::bad_alloc();
  }
  ~Inflater() { inflateEnd(&z_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Bytes the zlib stream `in` inflates to, or a number above `limit` once it passes it. A broken
  // stream counts what inflated before the error (libpng drops such chunks).
  int64_t measure(std::string_view in, int64_t limit) {
    inflateReset(&z_);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());  // a chunk is at most 2^31-1 bytes
    int64_t total = 0;
    for (;;) {
      z_.next_out = scratch_;
      z_.avail_out = sizeof scratch_;
      int rc = inflate(&z_, Z_NO_FLUSH);
      total += static_cast<int64_t>(sizeof scratch_ - z_.avail_out);
      if (total > limit || rc != Z_OK) break;  // Z_STREAM_END, errors, or no progress possible
    }
    produced_ += total;
    return total;
  }
  int64_t produced() const { return produced_; }

 private:
  z_stream z_{};
  Bytef scratch_[16384];
  int64_t produced_ = 0;
};

bool valid_type(std::string_view t) {
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); });
}

// Offset of the compressed stream inside a zTXt/iTXt/iCCP chunk, or npos when the chunk is not
// compressed or is malformed (libpng then stores or drops it without inflating anything).
std::size_t compressed_start(std::string_view type, std::string_view d) {
  auto nul = d.find('\0');
  if (nul == std::string_view::npos || nul > 79) return std::string_view::npos;
  if (type == "zTXt" || type == "iCCP") return nul + 2 <= d.size() ? nul + 2 : d.npos;
  // iTXt: keyword, NUL, compression flag, method, language tag, NUL, translated keyword, NUL.
  if (nul + 3 > d.size() || d[nul + 1] != 1) return std::string_view::npos;
  auto lang = d.find('\0', nul + 3);
  if (lang == std::string_view::npos) return std::string_view::npos;
  auto translated = d.find('\0', lang + 1);
  return translated == std::string_view::npos ? d.npos : translated + 1;
}

class PngWalk {
 public:
  PngWalk(std::string_view b, const ProcessingLimits& l) : b_(b), lim_(l) {}

  WalkResult run() {
    WalkResult r;
    r.refusal = walk();
    r.stats = stats_;
    r.stats.inflated_bytes = z_.produced();
    return r;
  }

 private:
  using Refusal = std::optional<ContainerRefusal>;

  Refusal walk() {
    if (b_.size() < 8 || b_.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8))
      return detail::structure("malformed_container", "not a PNG signature");
    for (std::size_t p = 8; p < b_.size();) {
      if (b_.size() - p < 12) return broken("truncated_container", "the file ends inside a chunk");
      uint32_t len = be32(b_, p);
      std::string_view type = b_.substr(p + 4, 4);
      if (len > 0x7fffffffu)
        return broken("malformed_container", "a PNG chunk length is out of range");
      if (!valid_type(type)) return broken("malformed_container", "invalid PNG chunk type");
      if (b_.size() - p - 12 < len)
        return broken("truncated_container", "the file ends inside a chunk");
      if (++stats_.chunks > lim_.max_chunks)
        return detail::limit(
            "png_too_many_chunks",
            "the PNG has more than " + std::to_string(lim_.max_chunks) + " chunks");
      if (stats_.chunks == 1 && (type != "IHDR" || len != 13))
        return detail::structure("malformed_container", "a PNG must start with IHDR");
      if (type == "IEND") break;
      if (type == "IDAT") seen_idat_ = true;
      if (auto refusal = metadata(type, b_.substr(p + 8, len))) return refusal;
      p += 12 + std::size_t(len);
    }
    return std::nullopt;
  }

  // Past the image data libvips reads no further (trailing garbage and cut-off trailers are
  // accepted today), so a broken chunk there ends the walk instead of refusing the file.
  Refusal broken(const char* reason, const char* message) {
    if (seen_idat_) return std::nullopt;
    return detail::structure(reason, message);
  }

  std::optional<ContainerRefusal> metadata(std::string_view type, std::string_view d) {
    bool text = type == "tEXt" || type == "zTXt" || type == "iTXt";
    bool icc = type == "iCCP";
    if (!text && !icc && type != "eXIf") return std::nullopt;
    int64_t left = lim_.max_metadata_bytes - stats_.metadata_bytes;
    int64_t size = static_cast<int64_t>(d.size());
    auto at = type == "zTXt" || type == "iTXt" || icc ? compressed_start(type, d) : d.npos;
    if (at != std::string_view::npos) {
      int64_t cap = icc ? std::min(left, lim_.max_icc_bytes) : left;
      // Counted at the larger of the stored and the inflated size: both cost the decoder.
      size = std::max(size, z_.measure(d.substr(at), cap));
    }
    if (icc) {
      stats_.icc_bytes = std::max(stats_.icc_bytes, size);
      if (size > lim_.max_icc_bytes)
        return detail::limit("png_icc_too_large", "the PNG's ICC profile exceeds " +
                                                      detail::size_text(lim_.max_icc_bytes));
    }
    stats_.metadata_bytes += size;
    if (stats_.metadata_bytes <= lim_.max_metadata_bytes) return std::nullopt;
    const char* reason = text  ? "png_text_too_large"
                         : icc ? "png_icc_too_large"
                               : "png_metadata_too_large";
    return detail::limit(reason, "the PNG's metadata (text, ICC, EXIF) exceeds " +
                                     detail::size_text(lim_.max_metadata_bytes) + " once inflated");
  }

  std::string_view b_;
  const ProcessingLimits& lim_;
  WalkStats stats_;
  Inflater z_;
  bool seen_idat_ = false;
};

}  // namespace

WalkResult walk_png(std::string_view bytes, const ProcessingLimits& limits) {
  return PngWalk(bytes, limits).run();
}

}  // namespace isvc::imaging
