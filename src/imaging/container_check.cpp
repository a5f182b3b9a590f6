#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

#include <array>

namespace isvc::imaging {

namespace {

constexpr std::array<std::string_view, 19> kReasons = {
    "png_too_many_chunks",         "png_text_too_large",      "png_icc_too_large",
    "png_metadata_too_large",      "jpeg_too_many_scans",     "jpeg_too_many_segments",
    "jpeg_app_segments_too_large", "jpeg_icc_too_large",      "webp_too_many_frames",
    "webp_too_many_chunks",        "webp_icc_too_large",      "webp_metadata_too_large",
    "heif_too_many_boxes",         "heif_too_many_tiles",     "heif_item_too_large",
    "heif_icc_too_large",          "heif_metadata_too_large", "truncated_container",
    "malformed_container"};

}  // namespace

namespace detail {

ContainerRefusal limit(const char* reason, std::string message) {
  return {ContainerRefusal::Kind::Limit, reason, std::move(message)};
}

ContainerRefusal structure(const char* reason, std::string message) {
  return {ContainerRefusal::Kind::Structure, reason, std::move(message)};
}

std::string size_text(int64_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
    return std::to_string(bytes / (1024 * 1024)) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace detail

WalkResult walk_container(domain::ImageFormat format, std::string_view bytes,
                          const ProcessingLimits& limits) {
  switch (format) {
    case domain::ImageFormat::Png:
      return walk_png(bytes, limits);
    case domain::ImageFormat::Jpeg:
      return walk_jpeg(bytes, limits);
    case domain::ImageFormat::Webp:
      return walk_webp(bytes, limits);
    case domain::ImageFormat::Heic:
    case domain::ImageFormat::Avif:
      return walk_heif(bytes, limits);
    case domain::ImageFormat::Unknown:
      break;
  }
  return {};
}

bool is_container_reason(std::string_view reason) {
  for (auto r : kReasons)
    if (r == reason) return true;
  return false;
}

}  // namespace isvc::imaging
