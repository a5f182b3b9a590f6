// HEIF sniffing and the box walker on files built here (hostile headers and their legitimate
// neighbours), and HEIC/AVIF files written by libvips' own heifsave through the whole processor.
#include <gtest/gtest.h>
#include <vips/vips8>

#include <string>
#include <vector>

#include "domain/model/error.h"
#include "imaging/container_check.h"
#include "imaging/processing_limits.h"
#include "imaging/sniff.h"
#include "imaging/vips_processor.h"

namespace isvc::imaging {
namespace {

using domain::ImageFormat;
using namespace std::string_literals;

std::string be(uint64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s += char(v >> (8 * i));
  return s;
}
std::string box(const std::string& type, const std::string& body) {
  return be(8 + body.size(), 4) + type + body;
}
std::string full(const std::string& type, int version, const std::string& body, int flags = 0) {
  return box(type, be(version, 1) + be(flags, 3) + body);
}
std::string ispe(uint32_t w, uint32_t h) {
  return full("ispe", 0, be(w, 4) + be(h, 4));
}

// A HEIF with one coded item (id 1) or a grid (id 1) of `tiles` coded items (ids 2…), each
// with the given properties; the coded data is 16 bytes of zeros in mdat.
struct Heif {
  std::string brand = "heic", codec = "hvc1";
  std::vector<std::string> props = {ispe(640, 480)};  // of item 1, in association order
  int grid_rows = 0, grid_cols = 0;                   // 0: no grid
  uint32_t tile_w = 320, tile_h = 240;
  std::string extra_meta;  // appended inside meta
  bool meta = true;

  std::string build() const {
    std::string ftyp = box("ftyp", brand + be(0, 4) + "mif1" + brand);
    int n_items = 1 + grid_rows * grid_cols;
    std::string infe;
    for (int id = 1; id <= n_items; ++id)
      infe +=
          full("infe", 2, be(id, 2) + be(0, 2) + (id == 1 && grid_rows ? "grid" : codec) + "\0"s);
    std::string iinf = full("iinf", 0, be(n_items, 2) + infe);
    std::vector<std::string> ipco = props;
    std::string ipma_entries = be(1, 2) + be(props.size(), 1);
    for (std::size_t i = 0; i < props.size(); ++i) ipma_entries += be(i + 1, 1);
    std::string idat, iref;
    if (grid_rows) {
      ipco.push_back(ispe(tile_w, tile_h));
      for (int id = 2; id <= n_items; ++id)
        ipma_entries += be(id, 2) + be(1, 1) + be(ipco.size(), 1);
      idat = box("idat", be(0, 1) + be(0, 1) + be(grid_rows - 1, 1) + be(grid_cols - 1, 1) +
                             be(grid_cols * tile_w, 2) + be(grid_rows * tile_h, 2));
      std::string to;
      for (int id = 2; id <= n_items; ++id) to += be(id, 2);
      iref = full("iref", 0, box("dimg", be(1, 2) + be(n_items - 1, 2) + to));
    }
    std::string ipco_box;
    for (const auto& p : ipco) ipco_box += p;
    std::string iprp =
        box("iprp", box("ipco", ipco_box) + full("ipma", 0, be(n_items, 4) + ipma_entries));
    std::string hdlr = full("hdlr", 0, be(0, 4) + "pict" + std::string(13, '\0'));
    std::string pitm = full("pitm", 0, be(1, 2));
    // iloc v1: offsets and lengths of 4 bytes; the grid in idat (method 1), tiles in mdat.
    auto meta_for = [&](uint32_t mdat_data) {
      std::string entries;
      for (int id = 1; id <= n_items; ++id) {
        bool in_idat = id == 1 && grid_rows;
        entries += be(id, 2) + be(in_idat ? 1 : 0, 2) + be(0, 2) + be(1, 2) +
                   be(in_idat ? 0 : mdat_data, 4) + be(in_idat ? 8 : 16, 4);
      }
      std::string iloc = full("iloc", 1, be(0x4400, 2) + be(n_items, 2) + entries);
      return full("meta", 0, hdlr + pitm + iloc + iinf + iref + iprp + idat + extra_meta);
    };
    std::size_t meta_size = meta ? meta_for(0).size() : 0;
    std::string m = meta ? meta_for(uint32_t(ftyp.size() + meta_size + 8)) : "";
    return ftyp + m + box("mdat", std::string(16, '\0'));
  }
};

WalkResult walk(const std::string& b, ProcessingLimits lim = {}) {
  return walk_heif(b, lim);
}
std::string reason(const WalkResult& r) {
  return r.refusal ? r.refusal->reason : "";
}

TEST(HeifSniff, BrandsDecideTheFormat) {
  auto ftyp = [](std::string major, std::string compat) {
    return box("ftyp", major + be(0, 4) + compat) + std::string(16, '\0');
  };
  EXPECT_EQ(sniff_format(ftyp("heic", "mif1heic")), ImageFormat::Heic);
  EXPECT_EQ(sniff_format(ftyp("heix", "mif1")), ImageFormat::Heic);
  EXPECT_EQ(sniff_format(ftyp("mif1", "miafheic")), ImageFormat::Heic);  // compatible brand
  EXPECT_EQ(sniff_format(ftyp("msf1", "hevc")), ImageFormat::Heic);
  EXPECT_EQ(sniff_format(ftyp("avif", "mif1miaf")), ImageFormat::Avif);
  EXPECT_EQ(sniff_format(ftyp("avis", "msf1")), ImageFormat::Avif);
  EXPECT_EQ(sniff_format(ftyp("mif1", "avifmiaf")), ImageFormat::Avif);
  EXPECT_EQ(sniff_format(ftyp("avif", "heic")), ImageFormat::Avif);  // the major brand first
  // Generic brands name no codec; video MP4s and QuickTime are not images.
  EXPECT_EQ(sniff_format(ftyp("mif1", "miaf")), ImageFormat::Unknown);
  EXPECT_EQ(sniff_format(ftyp("msf1", "")), ImageFormat::Unknown);
  EXPECT_EQ(sniff_format(ftyp("isom", "iso2mp41")), ImageFormat::Unknown);
  EXPECT_EQ(sniff_format(ftyp("qt  ", "")), ImageFormat::Unknown);
  // A brand past the ftyp box's own size does not count.
  EXPECT_EQ(sniff_format(box("ftyp", "mif1" + be(0, 4)) + "heic" + std::string(16, '\0')),
            ImageFormat::Unknown);
  EXPECT_EQ(sniff_format("\0\0\0\x10"
                         "ftypheic"s),
            ImageFormat::Unknown);  // too short
  EXPECT_STREQ(mime_type(ImageFormat::Heic), "image/heic");
  EXPECT_STREQ(mime_type(ImageFormat::Avif), "image/avif");
}

TEST(HeifWalk, PrimaryItemSizeAndTransforms) {
  Heif h;
  auto r = walk(h.build());
  ASSERT_FALSE(r.refusal) << r.refusal->message;
  EXPECT_EQ(r.header->width, 640);
  EXPECT_EQ(r.header->height, 480);
  EXPECT_EQ(r.stats.tiles, 1);
  // irot 1 and 3 turn the size; 2 and imir do not; clap crops before the turn.
  for (int angle : {0, 1, 2, 3}) {
    h.props = {ispe(640, 480), box("irot", be(angle, 1)), box("imir", be(1, 1))};
    r = walk(h.build());
    ASSERT_TRUE(r.header) << angle;
    EXPECT_EQ(r.header->width, angle % 2 ? 480 : 640) << angle;
  }
  h.props = {ispe(640, 480),
             box("clap", be(600, 4) + be(1, 4) + be(300, 4) + be(1, 4) + be(0, 4) + be(1, 4) +
                             be(0, 4) + be(1, 4)),
             box("irot", be(1, 1))};
  r = walk(h.build());
  ASSERT_TRUE(r.header);
  EXPECT_EQ(r.header->width, 300);
  EXPECT_EQ(r.header->height, 600);
  h.props = {ispe(640, 480),
             box("clap", be(6400, 4) + be(1, 4) + be(300, 4) + be(1, 4) + std::string(16, '\0'))};
  EXPECT_EQ(reason(walk(h.build())), "malformed_container");  // larger than the image
}

TEST(HeifWalk, HugeOrMissingSizes) {
  Heif h;
  h.props = {ispe(0xFFFFFFFF, 0xFFFFFFFF)};
  auto r = walk(h.build());
  ASSERT_FALSE(r.refusal);  // the processor refuses it: INVALID_DIMENSIONS (below)
  EXPECT_EQ(r.header->width, 0xFFFFFFFFll);
  h.props = {box("irot", be(1, 1))};
  EXPECT_EQ(reason(walk(h.build())), "malformed_container");  // no ispe
  h.props = {ispe(0, 480)};
  EXPECT_EQ(reason(walk(h.build())), "malformed_container");

  ProcessingLimits lim;
  lim.accepted_formats = {ImageFormat::Heic};
  VipsProcessor p{lim};
  h.props = {ispe(30000, 30000)};
  try {
    p.probe(h.build());
    FAIL() << "accepted";
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::InvalidDimensions);
  }
}

TEST(HeifWalk, BoxSizes) {
  std::string ok = Heif{}.build();
  // meta (after the ftyp) claims more than the file, 2^64-1 as a 64-bit size, or less than its
  // header.
  const std::size_t m = 24;
  ASSERT_EQ(ok.substr(m + 4, 4), "meta");
  std::string b = ok;
  b.replace(m, 4, be(0xFFFFFFF0, 4));
  EXPECT_EQ(reason(walk(b)), "truncated_container");
  b = ok.substr(0, m) + be(1, 4) + "free" + be(UINT64_MAX, 8) + ok.substr(m);
  EXPECT_EQ(reason(walk(b)), "truncated_container");
  b = ok;
  b.replace(m, 4, be(4, 4));
  EXPECT_EQ(reason(walk(b)), "malformed_container");
  // Size 0 runs to the end of the file: a last mdat may say so.
  b = ok;
  b.replace(b.size() - 24, 4, be(0, 4));
  EXPECT_FALSE(walk(b).refusal);
  // A 64-bit size that is right is fine.
  b = ok.substr(0, m) + be(1, 4) + "free" + be(24, 8) + "12345678" + ok.substr(m);
  EXPECT_FALSE(walk(b).refusal);
  // Every truncation is refused, and never read past the end (ASan builds check).
  for (std::size_t n = 0; n < ok.size(); ++n) EXPECT_TRUE(walk(ok.substr(0, n)).refusal) << n;
}

TEST(HeifWalk, NestingAndCounts) {
  Heif h;
  std::string deep = "";
  for (int i = 0; i < 2000; ++i) deep = full("meta", 0, deep);
  h.extra_meta = deep;
  auto r = walk(h.build());
  EXPECT_EQ(reason(r), "malformed_container");
  EXPECT_NE(r.refusal->message.find("meta box inside a meta box"), std::string::npos);
  h.extra_meta = box("ipco", box("ipco", ""));
  EXPECT_EQ(reason(walk(h.build())), "malformed_container");
  h.extra_meta.clear();
  for (int i = 0; i < 6000; ++i) h.extra_meta += box("free", "");
  EXPECT_EQ(reason(walk(h.build())), "heif_too_many_boxes");
  EXPECT_EQ(walk(h.build()).refusal->kind, ContainerRefusal::Kind::Limit);
}

TEST(HeifWalk, Grids) {
  Heif h;
  h.grid_rows = 2;
  h.grid_cols = 2;
  h.props = {ispe(640, 480)};
  auto r = walk(h.build());
  ASSERT_FALSE(r.refusal) << r.refusal->message;
  EXPECT_EQ(r.stats.tiles, 4);
  EXPECT_EQ(r.header->width, 640);
  h.grid_rows = h.grid_cols = 100;  // 10,000 tiles: more items than IMAGE_MAX_CHUNKS boxes,
  h.tile_w = h.tile_h = 64;         // and more tiles than heif_max_tiles under a larger cap
  h.props = {ispe(6400, 6400)};
  EXPECT_EQ(reason(walk(h.build())), "heif_too_many_boxes");
  ProcessingLimits many;
  many.max_chunks = 100000;
  r = walk(h.build(), many);
  EXPECT_EQ(reason(r), "heif_too_many_tiles");
  EXPECT_EQ(r.refusal->kind, ContainerRefusal::Kind::Limit);
  // Tiles too large for the output (a 1x1 grid of one 20000 px tile), or a tile too large.
  h.grid_rows = h.grid_cols = 1;
  h.tile_w = h.tile_h = 7000;
  h.props = {ispe(7000, 7000)};
  EXPECT_FALSE(walk(h.build()).refusal);
  h.tile_w = h.tile_h = 9000;
  h.props = {ispe(9000, 9000)};
  EXPECT_EQ(reason(walk(h.build())), "heif_item_too_large");
}

TEST(HeifWalk, CodecMustMatchTheBrandAndStillImagesOnly) {
  Heif h;
  h.codec = "av01";  // branded heic
  EXPECT_EQ(reason(walk(h.build())), "malformed_container");
  h.brand = "avif";
  EXPECT_FALSE(walk(h.build()).refusal);
  h.codec = "jpeg";
  EXPECT_EQ(reason(walk(h.build())), "malformed_container");
  Heif seq;
  seq.meta = false;
  std::string b = seq.build() + box("moov", "");
  auto r = walk(b);
  EXPECT_EQ(reason(r), "malformed_container");
  EXPECT_NE(r.refusal->message.find("image sequences"), std::string::npos);
}

// Real files from libvips' heifsave (x265 and libaom through libheif), through the processor.
TEST(HeifProcess, VipsWrittenFilesAreDecodedUpright) {
  init_vips(1);
  // 300x200, red top-left quadrant, the rest blue; EXIF Orientation 6 attached.
  vips::VImage blue = vips::VImage::black(300, 200, vips::VImage::option()->set("bands", 3)) +
                      std::vector<double>{0, 0, 255};
  vips::VImage red = vips::VImage::black(150, 100, vips::VImage::option()->set("bands", 3)) +
                     std::vector<double>{255, 0, 0};
  vips::VImage img = blue.insert(red, 0, 0).cast(VIPS_FORMAT_UCHAR);
  img.set(VIPS_META_ORIENTATION, 6);
  ProcessingLimits lim;
  lim.accepted_formats = {ImageFormat::Heic, ImageFormat::Avif};
  VipsProcessor p(lim);
  for (auto [compression, format] :
       {std::pair{VIPS_FOREIGN_HEIF_COMPRESSION_HEVC, ImageFormat::Heic},
        std::pair{VIPS_FOREIGN_HEIF_COMPRESSION_AV1, ImageFormat::Avif}}) {
    VipsBlob* blob =
        img.heifsave_buffer(vips::VImage::option()->set("compression", compression)->set("Q", 90));
    std::size_t n = 0;
    auto data = static_cast<const char*>(vips_blob_get(blob, &n));
    std::string bytes(data, n);
    vips_area_unref(VIPS_AREA(blob));
    EXPECT_EQ(sniff_format(bytes), format);
    auto r = walk_heif(bytes, lim);
    ASSERT_FALSE(r.refusal) << r.refusal->message;
    EXPECT_EQ(r.header->width, 300);
    auto out = p.process(bytes);
    // The EXIF Orientation in a HEIF is not applied (irot/imir are its orientation).
    EXPECT_EQ(out.probe.format, format);
    EXPECT_EQ(out.probe.width, 300);
    EXPECT_EQ(out.main_width, 300);
    EXPECT_EQ(out.main_height, 200);
    vips::VImage main = vips::VImage::new_from_buffer(out.main_webp, "");
    auto tl = main.getpoint(20, 20), br = main.getpoint(280, 180);
    EXPECT_GT(tl[0], 200);
    EXPECT_LT(tl[2], 60);
    EXPECT_GT(br[2], 200);
    // HEIF_MAX_PIXELS: 300x200 = 60,000 pixels; a cap just under refuses it from the header.
    ProcessingLimits tight = lim;
    tight.heif_max_pixels = 59'999;
    try {
      VipsProcessor(tight).probe(bytes);
      FAIL() << "accepted past heif_max_pixels";
    } catch (const domain::Error& e) {
      EXPECT_EQ(e.code(), domain::ErrorCode::InvalidDimensions);
      EXPECT_EQ(e.details().at("reason"), "heif_too_many_pixels");
    }
    tight.heif_max_pixels = 60'000;
    EXPECT_EQ(VipsProcessor(tight).probe(bytes).width, 300);
    // Not accepted unless listed.
    VipsProcessor jpeg_only{ProcessingLimits{}};
    try {
      jpeg_only.probe(bytes);
      FAIL() << "accepted by default";
    } catch (const domain::Error& e) {
      EXPECT_EQ(e.code(), domain::ErrorCode::InvalidFileType);
    }
  }
}

}  // namespace
}  // namespace isvc::imaging
