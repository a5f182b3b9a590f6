#include "imaging/vips_processor.h"

#include <webp/mux.h>
#include <vips/vips8>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>

#include "domain/model/error.h"
#include "imaging/container_check.h"
#include "imaging/exif_reader.h"
#include "imaging/sniff.h"
#include "imaging/srgb.h"
#include "imaging/vips_deadline.h"
#include "imaging/vips_log.h"

namespace isvc::imaging {

using domain::Error;
using domain::ErrorCode;
using vips::VImage;

namespace {

// A VipsBlob over bytes we own for the duration of the call (no copy, no free).
struct Blob {
  explicit Blob(std::string_view b) : blob(vips_blob_new(nullptr, b.data(), b.size())) {}
  ~Blob() { vips_area_unref(VIPS_AREA(blob)); }
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;
  VipsBlob* blob;
};

std::string take_blob(VipsBlob* out) {
  std::size_t len = 0;
  auto data = static_cast<const char*>(vips_blob_get(out, &len));
  std::string s(data, len);
  vips_area_unref(VIPS_AREA(out));
  return s;
}

// The decode is sequential (strip by strip, as the sink asks for pixels): the deadline can stop
// it between strips, and no temporary file is used. Random access would decode the whole image
// inside the loader first, where no progress is reported.
VImage load(domain::ImageFormat f, VipsBlob* blob, bool strict) {
  auto opts = VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL);
  if (strict) opts->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
  switch (f) {
    case domain::ImageFormat::Jpeg:
      return VImage::jpegload_buffer(blob, opts);
    case domain::ImageFormat::Png:
      return VImage::pngload_buffer(blob, opts);
    case domain::ImageFormat::Webp:
      return VImage::webpload_buffer(blob, opts);  // n=1: first frame
    case domain::ImageFormat::Heic:
    case domain::ImageFormat::Avif:
      // Without `page`, the primary item (pitm): the one the box walk measured, which need not
      // be the first top-level image. n=1: never a sequence's other images, no thumbnail.
      // libheif applies irot/imir/clap itself.
      return VImage::heifload_buffer(blob, opts);
    case domain::ImageFormat::Unknown:
      break;
  }
  delete opts;
  throw Error(ErrorCode::InvalidFileType, "only JPEG, PNG and WebP images are accepted");
}

bool is_heif(domain::ImageFormat f) {
  return f == domain::ImageFormat::Heic || f == domain::ImageFormat::Avif;
}

// A HEIF's orientation is its irot/imir, already applied by libheif; an EXIF Orientation in it
// (phones write both) must not turn the pixels a second time.
void drop_heif_orientation(VImage& img, domain::ImageFormat f) {
  if (is_heif(f) && img.get_typeof(VIPS_META_ORIENTATION) != 0) {
    img = img.copy();
    vips_image_remove(img.get_image(), VIPS_META_ORIENTATION);
  }
}

// The shorter side of an image of w x h once fitted inside main_max x main_max, less a margin of
// two pixels for the resampler's rounding: what the thumbnail will be cut from.
int reduced_min_side(int w, int h, int main_max) {
  double scale = double(main_max) / double(std::max(w, h));
  return int(double(std::min(w, h)) * scale) - 2;
}

int orientation_of(const VImage& img) {
  if (img.get_typeof(VIPS_META_ORIENTATION) == 0) return 1;
  int o = img.get_int(VIPS_META_ORIENTATION);
  return o >= 1 && o <= 8 ? o : 1;
}

// Everything a loader attaches beyond pixels (EXIF incl. GPS, XMP, IPTC, ICC, thumbnails, PNG
// text chunks, animation info) is dropped: outputs carry pixels only.
void strip_metadata(VImage& img) {
  gchar** fields = vips_image_get_fields(img.get_image());
  for (gchar** f = fields; f && *f; ++f) {
    std::string_view n(*f);
    bool keep = n == "width" || n == "height" || n == "bands" || n == "format" || n == "coding" ||
                n == "interpretation" || n == "xoffset" || n == "yoffset" || n == "xres" ||
                n == "yres" || n == "filename" || n == "mode";
    if (!keep) vips_image_remove(img.get_image(), *f);
  }
  g_strfreev(fields);
}

// The original's EXIF: the block libvips attaches, or (a PNG from ImageMagick) the hex text of
// its "Raw profile type exif" chunk, which libvips does not decode.
domain::ExifFacts exif_of(const VImage& img, domain::ImageFormat format, std::string_view bytes,
                          int64_t max_metadata_bytes) {
  if (img.get_typeof("exif-data") != 0) {
    std::size_t len = 0;
    const void* data = img.get_blob("exif-data", &len);
    return read_exif(std::string_view(static_cast<const char*>(data), len));
  }
  if (format != domain::ImageFormat::Png) return {};
  auto text = png_raw_profile_text(bytes, std::size_t(max_metadata_bytes));
  if (text.empty()) return {};
  return read_exif(raw_profile_bytes(text));
}

// libvips 8.14's webpsave always writes an EXIF chunk (rebuilt from the image's fields, `strip`
// is ignored), so the metadata chunks are removed from the container with libwebpmux, which also
// fixes the VP8X flags.
std::string drop_metadata_chunks(const std::string& webp) {
  WebPData in{reinterpret_cast<const uint8_t*>(webp.data()), webp.size()};
  WebPMux* mux = WebPMuxCreate(&in, 0);
  if (!mux) throw Error(ErrorCode::Internal, "WebP output could not be parsed");
  for (const char* fourcc : {"EXIF", "XMP ", "ICCP"}) WebPMuxDeleteChunk(mux, fourcc);
  WebPData out{};
  WebPMuxError err = WebPMuxAssemble(mux, &out);
  WebPMuxDelete(mux);
  if (err != WEBP_MUX_OK) throw Error(ErrorCode::Internal, "WebP output could not be rebuilt");
  std::string clean(reinterpret_cast<const char*>(out.bytes), out.size);
  WebPDataClear(&out);
  return clean;
}

// With an alpha plane the effort is at least kAlphaEffort: libwebp compresses the (lossless)
// alpha plane with a strength that follows the effort, and that plane is most of such a file
// (alpha.png: 122 KB at effort 2, 103 KB at 4, in about the same time, since its colour planes
// are small).
constexpr int kAlphaEffort = 4;

std::string encode_webp(const VImage& img, int quality, int effort, VipsDeadline& deadline) {
  deadline.watch(img);
  if (img.has_alpha()) effort = std::max(effort, kAlphaEffort);
  VipsBlob* out = img.webpsave_buffer(
      VImage::option()->set("Q", quality)->set("effort", effort)->set("strip", true));
  return drop_metadata_chunks(take_blob(out));
}

Error refused(const ContainerRefusal& r) {
  return Error(ErrorCode::InvalidImage, r.message, {{"field", "file"}, {"reason", r.reason}});
}

}  // namespace

void init_vips(int concurrency) {
  static std::once_flag once;
  std::call_once(once, [&] {
    install_glib_writer();  // before VIPS_INIT, which may already warn
    if (VIPS_INIT("image-service") != 0) throw std::runtime_error("libvips failed to start");
    vips_block_untrusted_set(TRUE);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_concurrency_set(concurrency > 0 ? concurrency : 1);
  });
}

domain::ProbeResult VipsProcessor::probe(std::string_view bytes) {
  domain::ProbeResult r;
  r.format = sniff_format(bytes);
  const auto& accepted = limits_.accepted_formats;
  if (std::find(accepted.begin(), accepted.end(), r.format) == accepted.end())
    throw Error(ErrorCode::InvalidFileType, accepted_formats_message(accepted),
                {{"field", "file"}});
  // The container is walked before libvips sees the bytes: a bomb is refused here, cheaply. A
  // broken structure is refused after the dimensions, in the SPEC's order of codes.
  WalkResult walk = walk_container(r.format, bytes, limits_);
  if (walk.refusal && walk.refusal->kind == ContainerRefusal::Kind::Limit)
    throw refused(*walk.refusal);
  if (is_heif(r.format)) {
    // From the box walk alone: libheif never sees a file whose header is refused.
    if (!walk.header) throw refused(*walk.refusal);
    r.width = int(std::min<int64_t>(walk.header->width, INT32_MAX));
    r.height = int(std::min<int64_t>(walk.header->height, INT32_MAX));
    check_dimensions(r.width, r.height);
    if (int64_t(r.width) * r.height > limits_.heif_max_pixels)
      throw Error(ErrorCode::InvalidDimensions,
                  "a HEIC or AVIF image may have at most " +
                      std::to_string(limits_.heif_max_pixels) + " pixels; this one is " +
                      std::to_string(r.width) + "x" + std::to_string(r.height),
                  {{"field", "file"},
                   {"width", std::to_string(r.width)},
                   {"height", std::to_string(r.height)},
                   {"reason", "heif_too_many_pixels"}});
  } else {
    Blob blob(bytes);
    try {
      VImage head = load(r.format, blob.blob, false);  // lazy: reads the header only
      int w = head.width(), h = head.height();
      if (orientation_of(head) >= 5) std::swap(w, h);
      r.width = w;
      r.height = h;
    } catch (const vips::VError&) {
      throw Error(ErrorCode::InvalidImage, "the image header cannot be read",
                  {{"field", "file"}, {"reason", "header_unreadable"}});
    }
    check_dimensions(r.width, r.height);  // (a HEIF's were checked above, before its pixels)
  }
  if (walk.refusal) throw refused(*walk.refusal);
  return r;
}

void VipsProcessor::check_dimensions(int width, int height) const {
  if (width < limits_.min_dimension || height < limits_.min_dimension ||
      width > limits_.max_dimension || height > limits_.max_dimension) {
    throw Error(
        ErrorCode::InvalidDimensions,
        "image is " + std::to_string(width) + "x" + std::to_string(height) +
            "; width and height must be between " + std::to_string(limits_.min_dimension) +
            " and " + std::to_string(limits_.max_dimension),
        {{"field", "file"}, {"width", std::to_string(width)}, {"height", std::to_string(height)}});
  }
}

domain::ProcessedImage VipsProcessor::process(std::string_view bytes,
                                              const domain::ProcessContext& ctx) {
  ProcessingJob job(ctx.request_id);  // attributes libvips' messages to this upload
  domain::ProcessedImage out;
  out.probe = probe(bytes);  // type and dimensions from the header, before any decode
  // Declared before the images so that it outlives them (it holds their signal handlers).
  VipsDeadline deadline(limits_.processing_timeout_ms);
  Blob blob(bytes);
  const char* heif = out.probe.format == domain::ImageFormat::Heic   ? "heic"
                     : out.probe.format == domain::ImageFormat::Avif ? "avif"
                                                                     : nullptr;
  // Before libheif's first look at the bytes (load() parses them): tests check that no refused
  // header ever gets here.
  if (heif)
    log_imaging_event(obs::Level::Info, "heif_decode_started",
                      {{"format", heif}, {"width", out.probe.width}, {"height", out.probe.height}});
  try {
    VImage img = load(out.probe.format, blob.blob, true);
    drop_heif_orientation(img, out.probe.format);
    if (is_heif(out.probe.format) &&
        (img.width() != out.probe.width || img.height() != out.probe.height)) {
      // The coded stream, not the ispe, decides what libheif produces: its size is checked too.
      check_dimensions(img.width(), img.height());
      out.probe.width = img.width();
      out.probe.height = img.height();
    }
    // From the original, before strip_metadata drops it.
    out.exif = exif_of(img, out.probe.format, bytes, limits_.max_metadata_bytes);
    img = to_srgb8(img, out.probe.format, bytes);
    deadline.watch(img);
    // A large upright image is reduced while it is decoded, straight into the main image: the
    // full-size pixels (36 MB for 12 MP) are never written to memory, and truncation or
    // corruption surface in the same decode as INVALID_IMAGE. Everything else is decoded once,
    // fully, here: a rotation needs random access, and a small or very elongated image feeds
    // both encodes from the original.
    bool oversize = img.width() > limits_.main_max || img.height() > limits_.main_max;
    bool streams =
        oversize && orientation_of(img) == 1 && !heif &&
        reduced_min_side(img.width(), img.height(), limits_.main_max) >= limits_.thumb_size;
    auto decode_started = std::chrono::steady_clock::now();
    if (!streams) img = img.copy_memory();
    if (heif) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                            decode_started)
                      .count();
      log_imaging_event(obs::Level::Info, "heif_decoded",
                        {{"format", heif},
                         {"width", img.width()},
                         {"height", img.height()},
                         {"decodeMs", std::round(ms * 10) / 10}});
    }
    if (!streams) img = img.autorot();  // in memory: a rotation needs random access to the pixels
    strip_metadata(img);

    VImage main = img;
    if (oversize) {
      main = img.thumbnail_image(limits_.main_max, VImage::option()
                                                       ->set("height", limits_.main_max)
                                                       ->set("size", VIPS_SIZE_DOWN)
                                                       ->set("no_rotate", true));
      deadline.watch(main);
      main = main.copy_memory();
    }
    // The thumbnail comes from the (at most 2048 px) main image: measured 10 ms instead of
    // ~400 ms from a 12 MP original, with no visible difference at 400x400. Very elongated images
    // whose main image is thinner than the thumbnail use the original instead, to lose no detail.
    const VImage& thumb_src =
        streams || std::min(main.width(), main.height()) >= limits_.thumb_size ? main : img;
    out.main_width = main.width();
    out.main_height = main.height();
    out.main_webp = encode_webp(main, limits_.main_quality, limits_.webp_effort, deadline);
    out.placeholders = placeholders_from(main, deadline);
    // On this same processing thread, after the main image: no thread per upload, and one job
    // never runs more encodes at once than the libvips concurrency it was given.
    VImage t =
        thumb_src.thumbnail_image(limits_.thumb_size, VImage::option()
                                                          ->set("height", limits_.thumb_size)
                                                          ->set("crop", VIPS_INTERESTING_CENTRE)
                                                          ->set("size", VIPS_SIZE_BOTH)
                                                          ->set("no_rotate", true));
    out.thumb_webp = encode_webp(t, limits_.thumb_quality, limits_.webp_effort, deadline);
  } catch (const vips::VError&) {
    // libvips' error buffer is process-wide and never emptied by VError: cleared here, one
    // upload's decoder errors cannot reappear in another's messages.
    vips_error_clear();
    deadline.check();  // a killed pipeline fails like a corrupt one: the deadline tells them apart
    throw Error(ErrorCode::InvalidImage, "the image data is corrupt or truncated",
                {{"field", "file"}, {"reason", "decode_failed"}});
  }
  return out;
}

std::string VipsProcessor::render_variant(std::string_view source, int width, int height,
                                          domain::VariantFormat format) {
  if (width < 1 || height < 1 || width > limits_.max_dimension || height > limits_.max_dimension)
    throw Error(ErrorCode::Internal, "variant size out of range");
  VipsDeadline deadline(limits_.processing_timeout_ms);
  Blob blob(source);
  try {
    // thumbnail_buffer shrinks on load where the format allows, applies the orientation and
    // turns an embedded profile into sRGB; the main image (already upright sRGB) passes through.
    VImage v = VImage::thumbnail_buffer(blob.blob, width,
                                        VImage::option()
                                            ->set("height", height)
                                            ->set("size", VIPS_SIZE_FORCE)
                                            ->set("fail_on", VIPS_FAIL_ON_TRUNCATED));
    if (v.interpretation() != VIPS_INTERPRETATION_sRGB &&
        v.interpretation() != VIPS_INTERPRETATION_B_W)
      v = v.colourspace(VIPS_INTERPRETATION_sRGB);
    if (v.format() != VIPS_FORMAT_UCHAR) v = v.cast(VIPS_FORMAT_UCHAR);
    strip_metadata(v);
    if (format == domain::VariantFormat::Webp)
      return encode_webp(v, limits_.main_quality, limits_.webp_effort, deadline);
    deadline.watch(v);
    VipsBlob* out = v.heifsave_buffer(VImage::option()
                                          ->set("compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1)
                                          ->set("Q", limits_.avif_quality)
                                          ->set("effort", limits_.avif_effort)
                                          ->set("strip", true));
    return take_blob(out);
  } catch (const vips::VError&) {
    vips_error_clear();
    deadline.check();
    throw Error(ErrorCode::InvalidImage, "the stored image cannot be decoded",
                {{"reason", "decode_failed"}});
  }
}

domain::Placeholders VipsProcessor::placeholders_from(const VImage& upright,
                                                      VipsDeadline& deadline) {
  SmallRgba px = placeholder_pixels(upright, deadline);
  if (observer_) observer_(px);
  return placeholders_of(px);
}

domain::Placeholders VipsProcessor::placeholders(std::string_view bytes,
                                                 const domain::ProcessContext& ctx) {
  ProcessingJob job(ctx.request_id);
  // A stored main image may be thinner than an upload may be (a 100x8000 upload's is 26x2048);
  // the type, container caps and maximum dimensions still apply.
  ProcessingLimits stored = limits_;
  stored.min_dimension = 1;
  domain::ProbeResult probe = VipsProcessor(stored).probe(bytes);
  VipsDeadline deadline(limits_.processing_timeout_ms);
  Blob blob(bytes);
  try {
    // JPEG decodes at 1/2, 1/4 or 1/8 scale straight from the DCT while the longer side keeps at
    // least 200 px: a legacy 12 MP original costs a fraction of a full decode.
    int shrink = 1;
    while (shrink < 8 && std::max(probe.width, probe.height) / (shrink * 2) >= 200) shrink *= 2;
    VImage img =
        probe.format == domain::ImageFormat::Jpeg && shrink > 1
            ? VImage::jpegload_buffer(
                  blob.blob,
                  VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("shrink", shrink))
            : load(probe.format, blob.blob, false);
    drop_heif_orientation(img, probe.format);
    int orientation = orientation_of(img);
    img = to_srgb8(img, probe.format, bytes);
    // Shrunk before rotating (a 100x100 box fits either way round), rotated in memory.
    SmallRgba px = placeholder_pixels(img, deadline);
    VImage small = VImage::new_from_memory(px.rgba.data(), px.rgba.size(), px.width, px.height, 4,
                                           VIPS_FORMAT_UCHAR);
    small.set(VIPS_META_ORIENTATION, orientation);
    VImage upright = small.autorot().copy_memory();
    return placeholders_from(upright, deadline);
  } catch (const vips::VError&) {
    vips_error_clear();
    deadline.check();
    throw Error(ErrorCode::InvalidImage, "the stored image data is corrupt or truncated",
                {{"reason", "decode_failed"}});
  }
}

}  // namespace isvc::imaging
