// Colour management (imaging/srgb.h): every profile reaches sRGB with an intent it supports,
// on fixtures built here with lcms; expected colours come from lcms directly or by construction.
#include <gtest/gtest.h>
#include <lcms2.h>

#include <cmath>
#include <optional>
#include <vips/vips8>

#include "imaging/processing_limits.h"
#include "imaging/srgb.h"
#include "imaging/vips_log.h"
#include "imaging/vips_processor.h"

namespace isvc::imaging {
namespace {

using domain::ImageFormat;
using domain::ProcessedImage;

using vips::VImage;

std::string save(cmsHPROFILE h) {
  cmsUInt32Number n = 0;
  cmsSaveProfileToMem(h, nullptr, &n);
  std::string out(n, '\0');
  cmsSaveProfileToMem(h, out.data(), &n);
  cmsCloseProfile(h);
  return out;
}

cmsHPROFILE srgb_to_lab() {
  return cmsCreateLab4Profile(nullptr);
}

// A profile with only a perceptual table (like the jpegli XYB sample's): it reads the pixels as
// sRGB with red and blue swapped, so skipping it is plain to see.
std::string perceptual_only_swap_profile() {
  cmsHPROFILE srgb = cmsCreate_sRGBProfile(), lab = srgb_to_lab();
  cmsHTRANSFORM to_lab =
      cmsCreateTransform(srgb, TYPE_RGB_16, lab, TYPE_Lab_16, INTENT_RELATIVE_COLORIMETRIC, 0);
  cmsHPROFILE p = cmsCreateProfilePlaceholder(nullptr);
  cmsSetProfileVersion(p, 4.3);
  cmsSetDeviceClass(p, cmsSigInputClass);
  cmsSetColorSpace(p, cmsSigRgbData);
  cmsSetPCS(p, cmsSigLabData);
  cmsPipeline* lut = cmsPipelineAlloc(nullptr, 3, 3);
  cmsStage* clut = cmsStageAllocCLut16bit(nullptr, 17, 3, 3, nullptr);
  cmsStageSampleCLut16bit(
      clut,
      [](const cmsUInt16Number in[], cmsUInt16Number out[], void* cargo) -> cmsInt32Number {
        cmsUInt16Number swapped[3] = {in[2], in[1], in[0]};
        cmsDoTransform(*static_cast<cmsHTRANSFORM*>(cargo), swapped, out, 1);
        return TRUE;
      },
      &to_lab, 0);
  cmsPipelineInsertStage(lut, cmsAT_BEGIN, clut);
  // lutAtoBType needs its "A" and "B" curves: identity.
  cmsPipelineInsertStage(lut, cmsAT_BEGIN, cmsStageAllocToneCurves(nullptr, 3, nullptr));
  cmsPipelineInsertStage(lut, cmsAT_END, cmsStageAllocToneCurves(nullptr, 3, nullptr));
  cmsWriteTag(p, cmsSigAToB0Tag, lut);
  cmsWriteTag(p, cmsSigMediaWhitePointTag, cmsD50_XYZ());
  cmsPipelineFree(lut);
  cmsDeleteTransform(to_lab);
  cmsCloseProfile(srgb);
  cmsCloseProfile(lab);
  return save(p);
}

const cmsCIExyY kD65{0.3127, 0.3290, 1.0};

cmsHPROFILE display_p3() {
  cmsCIExyYTRIPLE p3{{0.680, 0.320, 1.0}, {0.265, 0.690, 1.0}, {0.150, 0.060, 1.0}};
  const cmsFloat64Number srgb_curve[5] = {2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045};
  cmsToneCurve* c = cmsBuildParametricToneCurve(nullptr, 4, srgb_curve);
  cmsToneCurve* curves[3] = {c, c, c};
  cmsHPROFILE h = cmsCreateRGBProfile(&kD65, &p3, curves);
  cmsFreeToneCurve(c);
  return h;
}

std::string linear_grey_profile() {
  cmsToneCurve* linear = cmsBuildGamma(nullptr, 1.0);
  std::string icc = save(cmsCreateGrayProfile(&kD65, linear));
  cmsFreeToneCurve(linear);
  return icc;
}

// What lcms itself makes of one colour: the expected output.
std::vector<int> lcms_to_srgb(cmsHPROFILE from, std::vector<int> rgb) {
  cmsHPROFILE srgb = cmsCreate_sRGBProfile();
  cmsHTRANSFORM t =
      cmsCreateTransform(from, TYPE_RGB_8, srgb, TYPE_RGB_8, INTENT_RELATIVE_COLORIMETRIC, 0);
  uint8_t in[3] = {uint8_t(rgb[0]), uint8_t(rgb[1]), uint8_t(rgb[2])}, out[3];
  cmsDoTransform(t, in, out, 1);
  cmsDeleteTransform(t);
  cmsCloseProfile(srgb);
  return {out[0], out[1], out[2]};
}

class Colour : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_vips(2); }
  VipsProcessor proc{ProcessingLimits{}};

  // Side-by-side 100x200 patches of the given band values.
  static VImage patches(const std::vector<std::vector<double>>& colours, VipsBandFormat fmt,
                        VipsInterpretation interp) {
    VImage out;
    for (std::size_t i = 0; i < colours.size(); ++i) {
      VImage p = (VImage::black(100, 200, VImage::option()->set("bands", int(colours[i].size()))) +
                  colours[i])
                     .cast(fmt);
      out = i == 0 ? p : out.join(p, VIPS_DIRECTION_HORIZONTAL);
    }
    return out.copy(VImage::option()->set("interpretation", interp));
  }
  static std::string encode(VImage img, const char* suffix, const std::string& icc = {}) {
    img = img.copy();
    if (!icc.empty())
      vips_image_set_blob_copy(img.get_image(), VIPS_META_ICC_NAME, icc.data(), icc.size());
    void* buf = nullptr;
    std::size_t len = 0;
    img.write_to_buffer(suffix, &buf, &len);
    std::string out(static_cast<char*>(buf), len);
    g_free(buf);
    return out;
  }
  // A JPEG with `icc` as its APP2 ICC_PROFILE segment, whatever libvips thinks of it.
  static std::string jpeg_with_raw_profile(VImage img, const std::string& icc) {
    std::string jpg = encode(img, ".jpg[Q=95,strip]");
    std::string seg = std::string("ICC_PROFILE\0", 12) + '\x01' + '\x01' + icc;
    std::size_t n = seg.size() + 2;
    std::string app2 = std::string("\xFF\xE2", 2) + char(n >> 8) + char(n & 0xff) + seg;
    return jpg.substr(0, 2) + app2 + jpg.substr(2);
  }
  // The main output's pixel at the centre of patch `i`.
  std::vector<double> patch(const ProcessedImage& out, int i) {
    VImage m = VImage::new_from_buffer(out.main_webp.data(), out.main_webp.size(), "");
    return m.getpoint(100 * i + 50, 100);
  }
  // Processing `jpg` succeeds, reads the pixels as sRGB and logs why its profile was ignored.
  void expect_ignored(const std::string& jpg, const char* reason, const std::vector<int>& colour);
  static void expect_near(const std::vector<double>& got, const std::vector<int>& want, int tol,
                          const char* what) {
    ASSERT_GE(got.size(), want.size()) << what;
    for (std::size_t b = 0; b < want.size(); ++b)
      EXPECT_NEAR(got[b], want[b], tol) << what << " band " << b;
  }
};

TEST_F(Colour, AProfileWithOnlyAPerceptualTableIsApplied) {
  std::string png =
      encode(patches({{200, 50, 30}, {40, 120, 220}}, VIPS_FORMAT_UCHAR, VIPS_INTERPRETATION_sRGB),
             ".png", perceptual_only_swap_profile());
  VImage loaded = VImage::new_from_buffer(png.data(), png.size(), "");
  ColourSource src = choose_colour_source(loaded, ImageFormat::Png, png);
  EXPECT_EQ(src.kind, ColourSource::Kind::Embedded);
  EXPECT_EQ(src.intent, VIPS_INTENT_PERCEPTUAL);
  auto out = proc.process(png);
  // Red and blue come out swapped, as the profile says (libvips alone leaves them as they are).
  expect_near(patch(out, 0), {30, 50, 200}, 6, "left");
  expect_near(patch(out, 1), {220, 120, 40}, 6, "right");
}

TEST_F(Colour, DisplayP3IsConvertedLikeLcmsDoes) {
  cmsHPROFILE p3 = display_p3();
  std::string icc = save(display_p3());
  std::vector<std::vector<double>> colours = {{60, 180, 90}, {230, 60, 40}};
  std::string png =
      encode(patches(colours, VIPS_FORMAT_UCHAR, VIPS_INTERPRETATION_sRGB), ".png", icc);
  VImage loaded = VImage::new_from_buffer(png.data(), png.size(), "");
  EXPECT_EQ(choose_colour_source(loaded, ImageFormat::Png, png).intent, VIPS_INTENT_RELATIVE);
  auto out = proc.process(png);
  for (int i = 0; i < 2; ++i) {
    auto want = lcms_to_srgb(p3, {int(colours[i][0]), int(colours[i][1]), int(colours[i][2])});
    // P3 is wider than sRGB: these colours move by far more than the tolerance.
    EXPECT_GT(std::abs(want[0] - int(colours[i][0])) + std::abs(want[2] - int(colours[i][2])), 20);
    expect_near(patch(out, i), want, 4, "P3 patch");
  }
  cmsCloseProfile(p3);
}

TEST_F(Colour, CmykWithAndWithoutAProfileIsNotInverted) {
  VImage cmyk = patches({{0, 0, 0, 0}, {0, 0, 0, 255}, {255, 0, 0, 0}}, VIPS_FORMAT_UCHAR,
                        VIPS_INTERPRETATION_CMYK);
  VipsBlob* builtin = nullptr;
  ASSERT_EQ(vips_profile_load("cmyk", &builtin, nullptr), 0);
  std::size_t len = 0;
  auto data = static_cast<const char*>(vips_blob_get(builtin, &len));
  std::string cmyk_icc(data, len);
  vips_area_unref(VIPS_AREA(builtin));
  for (const std::string& icc : {std::string(), cmyk_icc}) {
    SCOPED_TRACE(icc.empty() ? "no profile" : "embedded profile");
    std::string jpg = encode(cmyk, ".jpg[Q=95]", icc);
    VImage loaded = VImage::new_from_buffer(jpg.data(), jpg.size(), "");
    ColourSource src = choose_colour_source(loaded, ImageFormat::Jpeg, jpg);
    EXPECT_EQ(src.kind, icc.empty() ? ColourSource::Kind::Assumed : ColourSource::Kind::Embedded);
    EXPECT_EQ(src.intent, VIPS_INTENT_PERCEPTUAL);
    auto out = proc.process(jpg);
    auto white = patch(out, 0), black = patch(out, 1), cyan = patch(out, 2);
    for (int b = 0; b < 3; ++b) {
      EXPECT_GT(white[b], 235);
      EXPECT_LT(black[b], 70);
    }
    EXPECT_LT(cyan[0], 100);  // cyan ink absorbs red
    EXPECT_GT(cyan[1], 120);
    EXPECT_GT(cyan[2], 180);
  }
}

TEST_F(Colour, SixteenBitGreyWithAlphaAndAGreyProfile) {
  // Linear light 0.2 at half opacity: sRGB-encoded 0.2 is 124, not 51.
  std::string png =
      encode(patches({{13107, 32768}}, VIPS_FORMAT_USHORT, VIPS_INTERPRETATION_GREY16).copy(),
             ".png", linear_grey_profile());
  auto out = proc.process(png);
  auto px = patch(out, 0);
  ASSERT_EQ(px.size(), 4u);
  expect_near(px, {124, 124, 124, 128}, 3, "grey + alpha");
}

TEST_F(Colour, SixteenBitRgbWithAlphaAndAP3Profile) {
  cmsHPROFILE p3 = display_p3();
  std::string png = encode(patches({{230 * 257, 60 * 257, 40 * 257, 65535 / 4}}, VIPS_FORMAT_USHORT,
                                   VIPS_INTERPRETATION_RGB16),
                           ".png", save(display_p3()));
  auto out = proc.process(png);
  auto px = patch(out, 0);
  ASSERT_EQ(px.size(), 4u);
  auto want = lcms_to_srgb(p3, {230, 60, 40});
  want.push_back(64);
  expect_near(px, want, 4, "RGB16 + alpha");
  cmsCloseProfile(p3);
}

TEST_F(Colour, UnusableProfilesAreIgnoredAndLogged) {
  obs::Logger log(obs::Level::Info, 0);  // synchronous: the test captures stdout
  GlibLogRoute route(log);
  VImage rgb = patches({{200, 50, 30}}, VIPS_FORMAT_UCHAR, VIPS_INTERPRETATION_sRGB);
  VImage grey = patches({{90}}, VIPS_FORMAT_UCHAR, VIPS_INTERPRETATION_B_W);
  struct Case {
    std::string jpg;
    const char* reason;
    std::vector<int> colour;
  } cases[] = {
      {jpeg_with_raw_profile(rgb, std::string(300, 'x')),
       "lcms cannot parse the profile",
       {200, 50, 30}},
      {jpeg_with_raw_profile(grey, save(cmsCreate_sRGBProfile())),
       "a RGB profile on grey pixels",
       {90, 90, 90}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reason);
    expect_ignored(c.jpg, c.reason, c.colour);
  }
}

// An sRGB profile whose red tone curve has an unknown type: lcms opens it, and fails only when
// a transform is built from it.
std::string profile_with_broken_curve() {
  std::string icc = save(cmsCreate_sRGBProfile());
  auto be32 = [&](std::size_t p) {
    return uint32_t(uint8_t(icc[p])) << 24 | uint32_t(uint8_t(icc[p + 1])) << 16 |
           uint32_t(uint8_t(icc[p + 2])) << 8 | uint32_t(uint8_t(icc[p + 3]));
  };
  for (uint32_t i = 0, n = be32(128); i < n; ++i) {
    std::size_t entry = 132 + 12 * i;
    if (icc.compare(entry, 4, "rTRC") == 0) icc.replace(be32(entry + 4), 4, "zzzz");
  }
  return icc;
}

TEST_F(Colour, AProfileLcmsCannotTransformWithIsIgnoredAndLogged) {
  obs::Logger log(obs::Level::Info, 0);  // synchronous: the test captures stdout
  GlibLogRoute route(log);
  VImage rgb = patches({{200, 50, 30}}, VIPS_FORMAT_UCHAR, VIPS_INTERPRETATION_sRGB);
  expect_ignored(jpeg_with_raw_profile(rgb, profile_with_broken_curve()),
                 "lcms cannot build a transform from the profile", {200, 50, 30});
}

void Colour::expect_ignored(const std::string& jpg, const char* reason,
                            const std::vector<int>& colour) {
  {
    VImage loaded = VImage::new_from_buffer(jpg.data(), jpg.size(), "");
    ASSERT_NE(loaded.get_typeof(VIPS_META_ICC_NAME), 0u) << "the fixture carries a profile";
    testing::internal::CaptureStdout();
    auto out = proc.process(jpg, {"req-colour"});
    std::string lines = testing::internal::GetCapturedStdout();
    EXPECT_NE(lines.find("\"event\":\"icc_profile_ignored\""), std::string::npos) << lines;
    EXPECT_NE(lines.find(reason), std::string::npos) << lines;
    EXPECT_NE(lines.find("\"requestId\":\"req-colour\""), std::string::npos) << lines;
    expect_near(patch(out, 0), colour, 6, "read as sRGB");
  }
}

// A 1-band PNG of `value` with a gAMA chunk (and an sRGB chunk) inserted after IHDR.
std::string grey_png(int value, std::optional<uint32_t> gama, bool srgb_chunk) {
  VImage img = (VImage::black(200, 200) + value).cast(VIPS_FORMAT_UCHAR);
  void* buf = nullptr;
  std::size_t len = 0;
  img.write_to_buffer(".png[strip]", &buf, &len);
  std::string png(static_cast<char*>(buf), len);
  g_free(buf);
  auto chunk = [](const std::string& type, const std::string& data) {
    uint32_t crc = 0xffffffff;
    for (unsigned char b : type + data) {
      crc ^= b;
      for (int k = 0; k < 8; ++k) crc = crc & 1 ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
    }
    crc ^= 0xffffffff;
    auto be = [](uint32_t v) {
      return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    };
    return be(uint32_t(data.size())) + type + data + be(crc);
  };
  std::string extra;
  if (srgb_chunk) extra += chunk("sRGB", std::string(1, '\0'));
  if (gama)
    extra += chunk(
        "gAMA", std::string{char(*gama >> 24), char(*gama >> 16), char(*gama >> 8), char(*gama)});
  return png.substr(0, 33) + extra + png.substr(33);  // signature (8) + IHDR (25)
}

TEST_F(Colour, PngGammaIsHonouredUnlessSrgbOverridesIt) {
  // File gamma 1/1.6: sample 128 is linear (128/255)^1.6 = 0.332, sRGB-encoded 156.
  EXPECT_FALSE(png_chunk_profile(grey_png(128, 62500, false), true).empty());
  EXPECT_TRUE(png_chunk_profile(grey_png(128, 45455, false), true).empty());
  EXPECT_TRUE(png_chunk_profile(grey_png(128, 62500, true), true).empty());
  EXPECT_TRUE(png_chunk_profile(grey_png(128, std::nullopt, false), true).empty());
  expect_near(patch(proc.process(grey_png(128, 62500, false)), 0), {156, 156, 156}, 2, "1/1.6");
  expect_near(patch(proc.process(grey_png(128, 45455, false)), 0), {128, 128, 128}, 2, "1/2.2");
  expect_near(patch(proc.process(grey_png(128, 62500, true)), 0), {128, 128, 128}, 2, "sRGB");
}

}  // namespace
}  // namespace isvc::imaging
