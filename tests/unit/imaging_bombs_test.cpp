// Image bombs through the processor: a walker refusal becomes 400 INVALID_IMAGE with its reason,
// the processing deadline kills libvips work, and no file of the two shared corpora is refused by
// a walker limit (nor for its structure unless libvips refuses it too).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vips/vips8>

#include "domain/model/error.h"
#include "imaging/container_check.h"
#include "imaging/processing_limits.h"
#include "imaging/sniff.h"
#include "imaging/vips_processor.h"

namespace isvc::imaging {
namespace {

using vips::VImage;
namespace fs = std::filesystem;

class Bombs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_vips(2); }

  static std::string encode(VImage img, const char* suffix) {
    void* buf = nullptr;
    std::size_t len = 0;
    img.write_to_buffer(suffix, &buf, &len);
    std::string out(static_cast<char*>(buf), len);
    g_free(buf);
    return out;
  }
  // A photo-like image (smooth plus noise) so that encoders have real work.
  static VImage photo(int w, int h) {
    VImage x = VImage::xyz(w, h);
    VImage g = (x[0] * 200 / w + x[1] * 55 / h + VImage::gaussnoise(w, h) / 4);
    return g.bandjoin({g, g})
        .cast(VIPS_FORMAT_UCHAR)
        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  }
  static domain::Error error_of(VipsProcessor& p, const std::string& bytes) {
    try {
      p.process(bytes);
    } catch (const domain::Error& e) {
      return e;
    }
    return domain::Error(domain::ErrorCode::Internal, "accepted");
  }
  static std::string reason_of(const domain::Error& e) {
    auto it = e.details().find("reason");
    return it == e.details().end() ? "-" : it->second;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
};

TEST_F(Bombs, WalkerRefusalsAreInvalidImageWithTheirReason) {
  ProcessingLimits l;
  l.jpeg_max_scans = 3;
  VipsProcessor proc(l);
  std::string prog = encode(photo(300, 200), ".jpg[interlace]");  // about 10 scans
  auto e = error_of(proc, prog);
  EXPECT_EQ(e.code(), domain::ErrorCode::InvalidImage);
  EXPECT_EQ(reason_of(e), "jpeg_too_many_scans");
  EXPECT_EQ(e.details().at("field"), "file");
  // A bomb is refused even when its header would also be out of range: it never reaches libvips.
  std::string huge = prog;
  auto sof = huge.find("\xFF\xC2");
  ASSERT_NE(sof, std::string::npos);
  huge[sof + 5] = char(0x75);  // height 30000-ish
  EXPECT_EQ(reason_of(error_of(proc, huge)), "jpeg_too_many_scans");
  // With the default cap the same file is fine.
  VipsProcessor defaults{ProcessingLimits{}};
  EXPECT_NO_THROW(defaults.process(prog));
}

TEST_F(Bombs, ExistingFailuresNowSayWhy) {
  VipsProcessor proc{ProcessingLimits{}};
  EXPECT_EQ(reason_of(error_of(proc, "\xFF\xD8\xFF\xE0<html>not a jpeg</html>")),
            "header_unreadable");
  std::string jpg = encode(photo(1200, 900), ".jpg");
  EXPECT_EQ(reason_of(error_of(proc, jpg.substr(0, jpg.size() / 2))), "decode_failed");
}

// The deadline kills the running sink: the call ends long before the work would have, and the
// next call with the same processor succeeds.
TEST_F(Bombs, ProcessingDeadlineStopsLibvipsWork) {
  std::string big = encode(photo(8000, 6000), ".jpg[Q=85]");
  VipsProcessor untimed{[] {
    ProcessingLimits l;
    l.processing_timeout_ms = 0;
    return l;
  }()};
  auto t0 = std::chrono::steady_clock::now();
  untimed.process(big);
  auto full = std::chrono::steady_clock::now() - t0;

  ProcessingLimits l;
  l.processing_timeout_ms = 50;
  VipsProcessor timed(l);
  t0 = std::chrono::steady_clock::now();
  auto e = error_of(timed, big);
  auto cut = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(e.code(), domain::ErrorCode::InvalidImage);
  EXPECT_EQ(reason_of(e), "processing_timeout");
  std::cout << "8000x6000 JPEG: " << std::chrono::duration<double, std::milli>(full).count()
            << " ms in full, " << std::chrono::duration<double, std::milli>(cut).count()
            << " ms with a 50 ms deadline\n";
  // Only a check between stages would have let the whole decode (most of the time) run.
  EXPECT_LT(cut, full / 3);
  // A kill leaves nothing behind in libvips (its caches, its thread pool): the same bytes are
  // processed in full right after, under a deadline they cannot reach. (The processor itself
  // holds only its limits. A 50 ms deadline on a small file raced the machine's load: under ASan
  // with the other tests running, a 100x100 PNG missed it three times in a row.)
  ProcessingLimits generous;
  generous.processing_timeout_ms = 600000;
  domain::ProcessedImage again = VipsProcessor(generous).process(big);
  EXPECT_EQ(again.probe.width, 8000);
  EXPECT_EQ(again.probe.height, 6000);
  EXPECT_EQ(again.main_width, 2048);
  EXPECT_FALSE(again.main_webp.empty());
  EXPECT_FALSE(again.thumb_webp.empty());
}

// Every file of both shared corpora: no walker limit refuses it, and a walker's structural
// refusal is only ever for a file libvips refuses as well.
TEST_F(Bombs, SharedCorporaPassTheWalkers) {
  fs::path images = ISVC_TESTDATA_DIR;
  std::vector<fs::path> files;
  for (const fs::path& dir : {images, images / ".." / "realworld" / "images"})
    if (fs::is_directory(dir))
      for (const auto& f : fs::directory_iterator(dir)) files.push_back(f.path());
  if (files.empty()) GTEST_SKIP() << "no shared test data";
  ProcessingLimits defaults;
  WalkStats most;
  int walked = 0;
  for (const auto& path : files) {
    std::string bytes = read(path);
    auto format = sniff_format(bytes);
    if (format == ImageFormat::Unknown) continue;
    SCOPED_TRACE(path.filename().string());
    ++walked;
    auto r = walk_container(format, bytes, defaults);
    if (r.refusal) {
      EXPECT_EQ(r.refusal->kind, ContainerRefusal::Kind::Structure) << r.refusal->reason;
      // Nothing stricter than the decoder: libvips fails on this file too.
      EXPECT_ANY_THROW(
          VImage::new_from_buffer(bytes.data(), bytes.size(), "",
                                  VImage::option()->set("fail_on", VIPS_FAIL_ON_TRUNCATED))
              .copy_memory());
    }
    most.chunks = std::max(most.chunks, r.stats.chunks);
    most.scans = std::max(most.scans, r.stats.scans);
    most.frames = std::max(most.frames, r.stats.frames);
    most.metadata_bytes = std::max(most.metadata_bytes, r.stats.metadata_bytes);
    most.icc_bytes = std::max(most.icc_bytes, r.stats.icc_bytes);
  }
  std::cout << walked << " files; largest seen: chunks " << most.chunks << ", scans " << most.scans
            << ", frames " << most.frames << ", metadata " << most.metadata_bytes << " bytes, ICC "
            << most.icc_bytes << " bytes\n";
  EXPECT_GE(walked, 30);
  // The defaults keep a wide margin over real files (docs/security.md quotes these numbers).
  EXPECT_LT(most.chunks * 4, defaults.max_chunks);
  EXPECT_LT(most.scans * 4, defaults.jpeg_max_scans);
  EXPECT_LT(most.frames * 4, defaults.webp_max_frames);
  EXPECT_LT(most.icc_bytes * 4, defaults.max_icc_bytes);
  EXPECT_LT(most.metadata_bytes * 4, defaults.max_metadata_bytes);
}

}  // namespace
}  // namespace isvc::imaging
