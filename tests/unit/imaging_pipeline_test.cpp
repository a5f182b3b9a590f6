// The libvips pipeline on fixtures generated here, and on ../shared/testdata when present.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vips/vips8>

#include "domain/model/error.h"
#include "imaging/processing_limits.h"
#include "imaging/sniff.h"
#include "imaging/vips_processor.h"

namespace isvc::imaging {
namespace {

using domain::ImageFormat;
using domain::ProcessedImage;

using vips::VImage;

class Pipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_vips(2); }
  VipsProcessor proc{ProcessingLimits{}};

  static std::string encode(VImage img, const char* suffix) {
    void* buf = nullptr;
    std::size_t len = 0;
    img.write_to_buffer(suffix, &buf, &len);
    std::string out(static_cast<char*>(buf), len);
    g_free(buf);
    return out;
  }
  static VImage gradient(int w, int h, int bands = 3) {
    VImage x = VImage::xyz(w, h);
    VImage g = (x[0] * 255 / std::max(1, w - 1)).cast(VIPS_FORMAT_UCHAR);
    VImage out = g;
    for (int b = 1; b < bands; ++b) out = out.bandjoin(b == 3 ? g * 0 + 128 : g);
    return out.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  }
  static VImage decode(const std::string& webp) {
    EXPECT_EQ(webp.substr(0, 4), "RIFF");
    EXPECT_EQ(webp.substr(8, 4), "WEBP");
    return VImage::new_from_buffer(webp.data(), webp.size(), "").copy_memory();
  }
  // The RIFF chunk FourCCs of a WebP file.
  static std::vector<std::string> chunks(const std::string& w) {
    std::vector<std::string> out;
    for (std::size_t p = 12; p + 8 <= w.size();) {
      uint32_t len = uint8_t(w[p + 4]) | uint8_t(w[p + 5]) << 8 | uint8_t(w[p + 6]) << 16 |
                     uint32_t(uint8_t(w[p + 7])) << 24;
      out.push_back(w.substr(p, 4));
      p += 8 + len + (len & 1);
    }
    return out;
  }
  domain::ErrorCode code_of(const std::string& bytes) {
    try {
      proc.process(bytes);
    } catch (const domain::Error& e) {
      return e.code();
    }
    return domain::ErrorCode::Internal;
  }
};

TEST_F(Pipeline, SniffsMagicBytesOnly) {
  EXPECT_EQ(sniff_format("\xFF\xD8\xFF\xE0"), ImageFormat::Jpeg);
  EXPECT_EQ(sniff_format("\x89PNG\r\n\x1a\nxxxx"), ImageFormat::Png);
  EXPECT_EQ(sniff_format(std::string("RIFF\0\0\0\0WEBPVP8 ", 16)), ImageFormat::Webp);
  for (std::string s : {std::string(""), std::string("GIF89a"), std::string("BM6"),
                        std::string("II*\0", 4), std::string("%PDF-1.4"), std::string("<svg"),
                        std::string("RIFF\0\0\0\0WAVE", 12), std::string("\xFF\xD8", 2)})
    EXPECT_EQ(sniff_format(s), ImageFormat::Unknown);
  EXPECT_STREQ(mime_type(ImageFormat::Png), "image/png");
}

TEST_F(Pipeline, LargeJpegFitsInside2048AndThumbIs400) {
  auto out = proc.process(encode(gradient(3000, 1000), ".jpg"));
  EXPECT_EQ(out.probe.format, ImageFormat::Jpeg);
  EXPECT_EQ(out.probe.width, 3000);
  VImage m = decode(out.main_webp), t = decode(out.thumb_webp);
  EXPECT_EQ(m.width(), 2048);
  EXPECT_EQ(m.height(), 683);
  EXPECT_EQ(out.main_width, 2048);
  EXPECT_EQ(t.width(), 400);
  EXPECT_EQ(t.height(), 400);
}

// Large upright images are reduced during their decode (no full-size copy): the same sizes, the
// same pixels as a reduction of the fully decoded image, and a cut file still fails as corrupt.
TEST_F(Pipeline, ReducedWhileDecodedLikeAFullDecodeAndTruncationStillFails) {
  VImage src = gradient(3000, 2200);
  std::string jpg = encode(src, ".jpg[Q=90]");
  auto out = proc.process(jpg);
  VImage m = decode(out.main_webp), t = decode(out.thumb_webp);
  EXPECT_EQ(m.width(), 2048);
  EXPECT_EQ(m.height(), 1502);
  EXPECT_EQ(t.width(), 400);
  EXPECT_EQ(t.height(), 400);
  VImage full = VImage::new_from_buffer(jpg.data(), jpg.size(), "").copy_memory();
  VImage ref = full.thumbnail_image(
      2048, VImage::option()->set("height", 2048)->set("size", VIPS_SIZE_DOWN));
  EXPECT_EQ(ref.width(), m.width());
  EXPECT_LT((ref.cast(VIPS_FORMAT_FLOAT) - m.cast(VIPS_FORMAT_FLOAT)).abs().avg(), 2.0);
  EXPECT_EQ(code_of(jpg.substr(0, jpg.size() / 2)), domain::ErrorCode::InvalidImage);
  // A rotated one takes the full decode and still comes out upright.
  VImage r = src.copy();
  r.set(VIPS_META_ORIENTATION, 6);
  auto rot = proc.process(encode(r, ".jpg[Q=90]"));
  EXPECT_EQ(decode(rot.main_webp).width(), 1502);
  EXPECT_EQ(decode(rot.main_webp).height(), 2048);
}

TEST_F(Pipeline, SmallImagesAreNeverEnlargedButThumbnailsAre) {
  auto out = proc.process(encode(gradient(100, 100), ".png"));
  EXPECT_EQ(decode(out.main_webp).width(), 100);
  EXPECT_EQ(decode(out.thumb_webp).width(), 400);
  EXPECT_EQ(decode(out.thumb_webp).height(), 400);
}

TEST_F(Pipeline, ExifOrientationIsAppliedAndMetadataStripped) {
  VImage img = gradient(300, 200).copy();
  img.set(VIPS_META_ORIENTATION, 6);
  std::string jpg = encode(img, ".jpg[Q=90]");
  auto probe = proc.probe(jpg);
  EXPECT_EQ(probe.width, 200);  // upright
  EXPECT_EQ(probe.height, 300);
  auto out = proc.process(jpg);
  VImage m = decode(out.main_webp);
  EXPECT_EQ(m.width(), 200);
  EXPECT_EQ(m.height(), 300);
  for (const std::string& w : {out.main_webp, out.thumb_webp}) {
    for (const auto& c : chunks(w)) EXPECT_TRUE(c == "VP8 " || c == "VP8L" || c == "VP8X") << c;
  }
  EXPECT_EQ(m.get_typeof("exif-data"), 0u);
}

TEST_F(Pipeline, AlphaIsKept) {
  auto out = proc.process(encode(gradient(300, 200, 4), ".png"));
  EXPECT_EQ(decode(out.main_webp).bands(), 4);
  EXPECT_EQ(decode(out.thumb_webp).bands(), 4);
  auto opaque = proc.process(encode(gradient(300, 200, 3), ".png"));
  EXPECT_EQ(decode(opaque.main_webp).bands(), 3);
}

TEST_F(Pipeline, ErrorCodesFollowTheSpecOrder) {
  using domain::ErrorCode;
  EXPECT_EQ(code_of(""), ErrorCode::InvalidFileType);
  EXPECT_EQ(code_of("GIF89a......"), ErrorCode::InvalidFileType);
  EXPECT_EQ(code_of("plain text"), ErrorCode::InvalidFileType);
  EXPECT_EQ(code_of(encode(gradient(99, 99), ".png")), ErrorCode::InvalidDimensions);
  EXPECT_EQ(code_of(encode(gradient(8001, 100), ".png")), ErrorCode::InvalidDimensions);
  EXPECT_EQ(code_of("\xFF\xD8\xFF\xE0<html>not a jpeg</html>"), ErrorCode::InvalidImage);
  std::string jpg = encode(gradient(1200, 900), ".jpg");
  EXPECT_EQ(code_of(jpg.substr(0, jpg.size() / 2)), ErrorCode::InvalidImage);
  std::string png = encode(gradient(1200, 900), ".png");
  EXPECT_EQ(code_of(png.substr(0, png.size() / 2)), ErrorCode::InvalidImage);
  // A JPEG whose SOF declares 30000x30000: refused from the header, before any decode.
  std::string bomb = encode(gradient(200, 200), ".jpg");
  auto sof = bomb.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (std::size_t off : {sof + 5, sof + 7}) {
    bomb[off] = char(30000 >> 8);
    bomb[off + 1] = char(30000 & 0xff);
  }
  EXPECT_EQ(code_of(bomb), ErrorCode::InvalidDimensions);
}

// SUPPORTED_FORMATS: a sniffed format that is not enabled is refused like an unknown one, before
// its header is read (a corrupt PNG is INVALID_FILE_TYPE, not INVALID_IMAGE), by probe and process.
TEST_F(Pipeline, OnlyTheAcceptedFormatsAreProcessed) {
  ProcessingLimits jpeg_only;
  jpeg_only.accepted_formats = {ImageFormat::Jpeg};
  VipsProcessor p(jpeg_only);
  std::string jpg = encode(gradient(300, 200), ".jpg");
  std::string png = encode(gradient(300, 200), ".png");
  std::string webp = encode(gradient(300, 200), ".webp");
  EXPECT_EQ(p.process(jpg).probe.format, ImageFormat::Jpeg);
  for (const std::string* refused : {&png, &webp}) {
    for (bool full : {false, true}) {
      try {
        if (full)
          p.process(*refused);
        else
          p.probe(*refused);
        ADD_FAILURE() << "accepted " << refused->substr(0, 4);
      } catch (const domain::Error& e) {
        EXPECT_EQ(e.code(), domain::ErrorCode::InvalidFileType);
        EXPECT_STREQ(e.what(), "only JPEG images are accepted");
        EXPECT_EQ(e.details().at("field"), "file");
      }
    }
  }
  try {
    p.probe(png.substr(0, 40));  // broken, but not an accepted format at all
    ADD_FAILURE();
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::InvalidFileType);
  }
  jpeg_only.accepted_formats = {ImageFormat::Png, ImageFormat::Webp};
  VipsProcessor q(jpeg_only);
  EXPECT_EQ(q.probe(webp).format, ImageFormat::Webp);
  EXPECT_EQ(q.probe(png).format, ImageFormat::Png);
  try {
    q.probe(jpg);
    ADD_FAILURE();
  } catch (const domain::Error& e) {
    EXPECT_STREQ(e.what(), "only PNG and WebP images are accepted");
  }
  // The default accepts all three, with the message naming them.
  EXPECT_EQ(proc.probe(jpg).format, ImageFormat::Jpeg);
  EXPECT_EQ(proc.probe(png).format, ImageFormat::Png);
  EXPECT_EQ(proc.probe(webp).format, ImageFormat::Webp);
  try {
    proc.probe("GIF89a......");
    ADD_FAILURE();
  } catch (const domain::Error& e) {
    EXPECT_STREQ(e.what(), "only JPEG, PNG and WebP images are accepted");
  }
}

// Every row of the shared MANIFEST.tsv through the processor (the size rule belongs to HTTP).
TEST_F(Pipeline, SharedManifest) {
  std::filesystem::path dir = ISVC_TESTDATA_DIR;
  if (!std::filesystem::exists(dir / "MANIFEST.tsv")) GTEST_SKIP() << "no shared test data";
  std::ifstream manifest(dir / "MANIFEST.tsv");
  std::string line;
  std::getline(manifest, line);
  int rows = 0;
  while (std::getline(manifest, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) f.push_back(cell);
    const std::string& name = f[0];
    if (name == "over_limit.jpg") continue;
    std::ifstream in(dir / name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    SCOPED_TRACE(name);
    ++rows;
    if (f[6] == "reject") {
      static const std::map<std::string, domain::ErrorCode> codes = {
          {"INVALID_FILE_TYPE", domain::ErrorCode::InvalidFileType},
          {"INVALID_DIMENSIONS", domain::ErrorCode::InvalidDimensions},
          {"INVALID_IMAGE", domain::ErrorCode::InvalidImage}};
      EXPECT_EQ(code_of(bytes), codes.at(f[8]));
      continue;
    }
    ProcessedImage out;
    try {
      out = proc.process(bytes);
    } catch (const domain::Error& e) {
      EXPECT_EQ(f[6], "either") << e.what();
      continue;
    }
    int w = std::stoi(f[3]), h = std::stoi(f[4]);
    EXPECT_EQ(out.probe.width, w);
    EXPECT_EQ(out.probe.height, h);
    VImage m = decode(out.main_webp), t = decode(out.thumb_webp);
    double scale = std::min(1.0, 2048.0 / std::max(w, h));
    EXPECT_EQ(m.width(), int(std::lround(w * scale)));
    EXPECT_EQ(m.height(), int(std::lround(h * scale)));
    EXPECT_EQ(t.width(), 400);
    EXPECT_EQ(t.height(), 400);
    EXPECT_EQ(m.interpretation(), VIPS_INTERPRETATION_sRGB);
    if (name.rfind("alpha", 0) == 0) {
      EXPECT_EQ(m.bands(), 4);
    }
    for (const std::string& o : {out.main_webp, out.thumb_webp}) {
      for (const auto& c : chunks(o))
        EXPECT_TRUE(c == "VP8 " || c == "VP8L" || c == "VP8X" || c == "ALPH") << c;
      EXPECT_EQ(o.find("TestCam"), std::string::npos);
    }
  }
  EXPECT_GE(rows, 30);
}

}  // namespace
}  // namespace isvc::imaging
