// The container walkers on crafted files: every refusal, the legitimate edge cases next to each
// one, and the bound on a walk's own work (a bomb is measured only up to the cap).
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

namespace isvc::imaging {
namespace {

using domain::ImageFormat;
using domain::ProcessedImage;

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}
std::string le32(uint32_t v) {
  return {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
}

// zlib stream of `n` copies of `c`, deflated 1 MiB at a time (never held inflated).
std::string deflated(std::size_t n, char c = 'a') {
  z_stream z{};
  deflateInit(&z, 9);
  std::string in(1 << 20, c), out;
  char buf[65536];
  for (std::size_t left = n;;) {
    std::size_t take = std::min(left, in.size());
    left -= take;
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = uInt(take);
    int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
    if (rc == Z_STREAM_END) break;
  }
  deflateEnd(&z);
  return out;
}

std::string chunk(const std::string& type, const std::string& data) {
  std::string td = type + data;
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()));
  return be32(uint32_t(data.size())) + td + be32(uint32_t(crc));
}

const std::string kSig("\x89PNG\r\n\x1a\n", 8);
std::string ihdr() {
  return chunk("IHDR", be32(200) + be32(200) + std::string("\x08\x02\0\0\0", 5));
}
std::string idat() {
  return chunk("IDAT", deflated(200 * 601, 0));
}
std::string iend() {
  return chunk("IEND", "");
}
std::string png(const std::string& extra, const std::string& tail = "") {
  return kSig + ihdr() + extra + idat() + tail + iend();
}
std::string ztxt(std::size_t inflated) {
  return chunk("zTXt", std::string("Comment\0\0", 9) + deflated(inflated));
}

ProcessingLimits small() {
  ProcessingLimits l;
  l.max_metadata_bytes = 1 << 20;
  l.max_icc_bytes = 512 << 10;
  l.max_chunks = 64;
  l.jpeg_max_scans = 10;
  l.webp_max_frames = 8;
  return l;
}

std::string reason(const WalkResult& r) {
  return r.refusal ? r.refusal->reason : "none";
}
bool is_limit(const WalkResult& r) {
  return r.refusal && r.refusal->kind == ContainerRefusal::Kind::Limit;
}

TEST(PngWalk, PlainFilePassesAndIsCounted) {
  auto r = walk_png(png(""), small());
  EXPECT_EQ(reason(r), "none");
  EXPECT_EQ(r.stats.chunks, 3);
  EXPECT_EQ(r.stats.metadata_bytes, 0);
}

TEST(PngWalk, TextBombsAreRefusedAtTheCapNotAtTheirSize) {
  // 100 zTXt chunks of 5 MB each (the bomb) against the default 8 MiB.
  std::string one = ztxt(5'000'000), bomb;
  for (int i = 0; i < 100; ++i) bomb += one;
  auto r = walk_png(png(bomb), ProcessingLimits{});
  EXPECT_EQ(reason(r), "png_text_too_large");
  EXPECT_TRUE(is_limit(r));
  EXPECT_LE(r.stats.inflated_bytes, (8 << 20) + 16384);  // two chunks' worth, not 500 MB

  std::string itxt =
      chunk("iTXt", std::string("XML:com.adobe.xmp\0\x01\0en\0\0", 24) + deflated(2 << 20));
  EXPECT_EQ(reason(walk_png(png(itxt), small())), "png_text_too_large");
  std::string text = chunk("tEXt", "Comment" + std::string(1, '\0') + std::string(1 << 20, 'x'));
  EXPECT_EQ(reason(walk_png(png(text), small())), "png_text_too_large");
  // Uncompressed iTXt is counted at its stored size; below the cap it passes.
  std::string plain_itxt =
      chunk("iTXt", std::string("XML:com.adobe.xmp\0\0\0\0\0", 22) + std::string(900'000, 'x'));
  EXPECT_EQ(reason(walk_png(png(plain_itxt), small())), "none");
}

TEST(PngWalk, TextJustUnderTheCapPassesAndTheTotalCounts) {
  auto r = walk_png(png(ztxt(400'000) + ztxt(400'000)), small());
  EXPECT_EQ(reason(r), "none");
  EXPECT_EQ(r.stats.metadata_bytes, 800'000);
  EXPECT_EQ(reason(walk_png(png(ztxt(400'000) + ztxt(400'000) + ztxt(400'000)), small())),
            "png_text_too_large");
}

TEST(PngWalk, IccBombStopsInflatingAtTheIccCap) {
  std::string icc = chunk("iCCP", std::string("ICC\0\0", 5) + deflated(64u << 20, 0));
  auto r = walk_png(png(icc), small());
  EXPECT_EQ(reason(r), "png_icc_too_large");
  EXPECT_LE(r.stats.inflated_bytes, (512 << 10) + 16384);
  // A real-sized profile (3 KB) passes and is reported.
  auto ok = walk_png(png(chunk("iCCP", std::string("sRGB\0\0", 6) + deflated(3144, 7))), small());
  EXPECT_EQ(reason(ok), "none");
  EXPECT_EQ(ok.stats.icc_bytes, 3144);
}

TEST(PngWalk, ExifCountsTowardsMetadata) {
  EXPECT_EQ(reason(walk_png(png(chunk("eXIf", std::string((1 << 20) + 1, 'e'))), small())),
            "png_metadata_too_large");
  EXPECT_EQ(reason(walk_png(png(chunk("eXIf", std::string(64 << 10, 'e'))), small())), "none");
}

TEST(PngWalk, BrokenCompressedTextIsCountedAtItsStoredSize) {
  std::string garbage = chunk("zTXt", std::string("Comment\0\0", 9) + std::string(1000, '\x55'));
  std::string no_keyword = chunk("zTXt", std::string(200, 'k'));
  std::string cut = chunk("zTXt", std::string("Comment\0\0", 9) + deflated(2 << 20).substr(0, 100));
  auto r = walk_png(png(garbage + no_keyword + cut), small());
  EXPECT_EQ(reason(r), "none");
  EXPECT_GE(r.stats.metadata_bytes, 1000 + 200 + 100);
}

TEST(PngWalk, ChunkCountIsCapped) {
  std::string many;
  for (int i = 0; i < 61; ++i) many += chunk("prVt", "");
  EXPECT_EQ(reason(walk_png(png(many), small())), "none");  // 64 chunks with IHDR/IDAT/IEND
  EXPECT_EQ(reason(walk_png(png(many + chunk("prVt", "")), small())), "png_too_many_chunks");
}

TEST(PngWalk, BrokenStructureBeforeTheImageDataIsRefused) {
  auto r = walk_png(kSig + idat() + iend(), small());
  EXPECT_EQ(reason(r), "malformed_container");
  EXPECT_FALSE(is_limit(r));
  EXPECT_EQ(reason(walk_png(kSig + ihdr() + be32(0x80000000u) + "tEXtdatacrc!", small())),
            "malformed_container");
  EXPECT_EQ(reason(walk_png(kSig + ihdr() + chunk("t3Xt", ""), small())), "malformed_container");
  EXPECT_EQ(reason(walk_png((kSig + ihdr() + idat()).substr(0, 60), small())),
            "truncated_container");
  EXPECT_EQ(reason(walk_png(kSig.substr(0, 8) + ihdr().substr(0, 10), small())),
            "truncated_container");
}

TEST(PngWalk, AfterTheImageDataOnlyTheCapsApply) {
  // libvips stops reading after the image data: a cut-off or garbage trailer is not refused.
  std::string base = kSig + ihdr() + idat();
  EXPECT_EQ(reason(walk_png(base, small())), "none");  // no IEND
  EXPECT_EQ(reason(walk_png(base + chunk("tEXt", std::string(100, 'x')).substr(0, 30), small())),
            "none");
  EXPECT_EQ(reason(walk_png(base + be32(0x80000000u) + "tEXt", small())), "none");
  EXPECT_EQ(reason(walk_png(png("") + "trailing bytes", small())), "none");
  EXPECT_EQ(reason(walk_png(base + ztxt(2 << 20) + iend(), small())), "png_text_too_large");
}

// JPEG: a segment is FF, marker, 2-byte length (counting itself), payload.
std::string seg(uint8_t marker, const std::string& payload) {
  std::size_t len = payload.size() + 2;
  return std::string{char(0xFF), char(marker), char(len >> 8), char(len & 0xFF)} + payload;
}
const std::string kSoi("\xFF\xD8", 2), kEoi("\xFF\xD9", 2);
std::string sos() {
  return seg(0xDA, std::string("\x01\x01\x00\x00\x3F\x00", 6));
}
// Entropy-coded bytes with stuffed FF00, fill bytes and restart markers: none is a segment.
std::string entropy() {
  return std::string("\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xFF\xFF\xD1\x78", 12);
}
std::string jpeg(const std::string& body) {
  return kSoi + seg(0xE0, std::string("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14)) +
         seg(0xDB, std::string(65, '\x01')) + seg(0xC0, std::string(15, '\x01')) + body + kEoi;
}
std::string scans(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += sos() + entropy();
  return s;
}

TEST(JpegWalk, CountsScansAndSegmentsLikeLibjpeg) {
  auto r = walk_jpeg(jpeg(scans(3)), small());
  EXPECT_EQ(reason(r), "none");
  EXPECT_EQ(r.stats.scans, 3);
  EXPECT_EQ(r.stats.chunks, 6);
}

TEST(JpegWalk, ScanCount) {
  EXPECT_EQ(reason(walk_jpeg(jpeg(scans(10)), small())), "none");
  auto r = walk_jpeg(jpeg(scans(11)), small());
  EXPECT_EQ(reason(r), "jpeg_too_many_scans");
  EXPECT_TRUE(is_limit(r));
  EXPECT_EQ(reason(walk_jpeg(jpeg(scans(101)), ProcessingLimits{})), "jpeg_too_many_scans");
}

TEST(JpegWalk, NoScanHidesFromTheCount) {
  // Garbage between segments is skipped to the next marker (libjpeg warns and goes on), a
  // bogus length below 2 reads as an empty segment, and an SOS inside an APP payload is data.
  std::string hidden =
      "garbage\x01\x02" + seg(0xFE, "") + std::string("\xFF\xE1\x00\x01", 4) + scans(11);
  EXPECT_EQ(reason(walk_jpeg(jpeg(hidden), small())), "jpeg_too_many_scans");
  std::string in_app = seg(0xE1, scans(3) + scans(9));
  EXPECT_EQ(walk_jpeg(jpeg(in_app + scans(1)), small()).stats.scans, 1);
}

TEST(JpegWalk, NothingAfterEoiCountsAndAMissingEoiIsTolerated) {
  EXPECT_EQ(reason(walk_jpeg(jpeg(scans(1)) + scans(50), small())), "none");
  std::string no_eoi = jpeg(scans(2));
  no_eoi.resize(no_eoi.size() - 2);
  EXPECT_EQ(reason(walk_jpeg(no_eoi, small())), "none");
  EXPECT_EQ(reason(walk_jpeg(no_eoi.substr(0, no_eoi.size() - 9), small())), "none");
  EXPECT_EQ(reason(walk_jpeg(kSoi + std::string("\xFF\xE1\x40", 3), small())), "none");
}

TEST(JpegWalk, AppSegmentsAndIccAreCappedButCommentsAreNot) {
  std::string app;
  for (int i = 0; i < 17; ++i) app += seg(0xE1, std::string(65000, 'x'));  // 1.05 MB
  EXPECT_EQ(reason(walk_jpeg(jpeg(app + scans(1)), small())), "jpeg_app_segments_too_large");
  std::string icc;
  for (int i = 1; i <= 9; ++i)
    icc +=
        seg(0xE2, std::string("ICC_PROFILE\0", 12) + char(i) + char(9) + std::string(60000, 'p'));
  auto r = walk_jpeg(jpeg(icc + scans(1)), small());
  EXPECT_EQ(reason(r), "jpeg_icc_too_large");
  EXPECT_GT(r.stats.icc_bytes, 512 << 10);
  // COM padding (how near_limit_10mib.jpg reaches 10 MiB) is not metadata.
  std::string com;
  for (int i = 0; i < 40; ++i) com += seg(0xFE, std::string(65000, 'c'));
  EXPECT_EQ(reason(walk_jpeg(jpeg(com + scans(1)), small())), "none");
}

TEST(JpegWalk, SegmentCount) {
  std::string many;
  for (int i = 0; i < 60; ++i) many += seg(0xE1, "");
  EXPECT_EQ(reason(walk_jpeg(jpeg(many + scans(1)), small())), "none");  // 64 with the others
  EXPECT_EQ(reason(walk_jpeg(jpeg(many + seg(0xE1, "") + scans(1)), small())),
            "jpeg_too_many_segments");
}

// WebP: RIFF header, then chunks (FourCC, LE size, payload, pad to even).
std::string rchunk(const std::string& id, const std::string& d) {
  return id + le32(uint32_t(d.size())) + d + (d.size() & 1 ? std::string(1, '\0') : "");
}
std::string riff(const std::string& body) {
  return "RIFF" + le32(uint32_t(body.size() + 4)) + "WEBP" + body;
}
const std::string kVp8l("\x2f\0\0\0\0\x88\x88\x08", 8);
std::string vp8x(uint8_t flags) {
  return rchunk("VP8X", std::string(1, char(flags)) + std::string(3, '\0') + "\xC7\0\0\xC7\0\0");
}
std::string frames(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += rchunk("ANMF", std::string(12, '\0') + "\x64\0\0\0" + rchunk("VP8L", kVp8l));
  return s;
}

TEST(WebpWalk, SimpleAndExtendedFilesPass) {
  EXPECT_EQ(reason(walk_webp(riff(rchunk("VP8L", kVp8l)), small())), "none");
  auto r = walk_webp(riff(vp8x(0x02) + rchunk("ANIM", std::string(6, '\0')) + frames(8)), small());
  EXPECT_EQ(reason(r), "none");
  EXPECT_EQ(r.stats.frames, 8);
  EXPECT_EQ(r.stats.chunks, 10);
  EXPECT_EQ(reason(walk_webp(riff(rchunk("VP8L", kVp8l)) + "trailing", small())), "none");
}

TEST(WebpWalk, FramesChunksAndMetadataAreCapped) {
  EXPECT_EQ(reason(walk_webp(riff(vp8x(0x02) + frames(9)), small())), "webp_too_many_frames");
  std::string unknown;
  for (int i = 0; i < 64; ++i) unknown += rchunk("ABCD", "");
  EXPECT_EQ(reason(walk_webp(riff(rchunk("VP8L", kVp8l) + unknown), small())),
            "webp_too_many_chunks");
  EXPECT_EQ(reason(walk_webp(riff(vp8x(0x20) + rchunk("ICCP", std::string((512 << 10) + 1, 'i')) +
                                  rchunk("VP8L", kVp8l)),
                             small())),
            "webp_icc_too_large");
  std::string meta =
      rchunk("EXIF", std::string(600'000, 'e')) + rchunk("XMP ", std::string(600'000, 'x'));
  EXPECT_EQ(reason(walk_webp(riff(vp8x(0x0C) + rchunk("VP8L", kVp8l) + meta), small())),
            "webp_metadata_too_large");
}

TEST(WebpWalk, BrokenRiffIsRefusedAsStructure) {
  std::string ok = riff(rchunk("VP8L", kVp8l));
  auto r = walk_webp(ok.substr(0, ok.size() - 3), small());
  EXPECT_EQ(reason(r), "truncated_container");
  EXPECT_FALSE(is_limit(r));
  EXPECT_EQ(reason(walk_webp(riff(rchunk("VP8L", kVp8l) + "ABCD" + le32(1000) + "xyz"), small())),
            "truncated_container");
  EXPECT_EQ(reason(walk_webp(riff(rchunk("VP8L", kVp8l) + "ABC"), small())), "truncated_container");
  std::string odd = riff(rchunk("VP8L", kVp8l) + "ABCD" + le32(3) + "xyz");  // no pad byte
  EXPECT_EQ(reason(walk_webp(odd, small())), "truncated_container");
  EXPECT_EQ(reason(walk_webp("RIFF" + le32(4) + "WEBP", small())), "malformed_container");
}

TEST(ContainerReasons, EveryReasonIsKnown) {
  for (auto r : {"png_text_too_large", "jpeg_too_many_scans", "webp_too_many_frames",
                 "truncated_container", "malformed_container"})
    EXPECT_TRUE(is_container_reason(r)) << r;
  EXPECT_FALSE(is_container_reason("processing_timeout"));
  EXPECT_EQ(reason(walk_container(ImageFormat::Unknown, "anything", small())), "none");
}

}  // namespace
}  // namespace isvc::imaging
