#include "imaging/srgb.h"

#include <lcms2.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "imaging/vips_log.h"

namespace isvc::imaging {

using vips::VImage;

namespace {

// Our own profile checks run in an lcms context of their own, so that lcms's complaints reach
// the log line instead of libvips' process-wide error buffer.
thread_local std::string t_lcms_error;

void on_lcms_error(cmsContext, cmsUInt32Number, const char* text) {
  if (t_lcms_error.empty() && text) t_lcms_error = text;
}

cmsContext lcms() {
  static cmsContext ctx = [] {
    cmsContext c = cmsCreateContext(nullptr, nullptr);
    cmsSetLogErrorHandlerTHR(c, on_lcms_error);
    return c;
  }();
  return ctx;
}

struct Profile {
  explicit Profile(cmsHPROFILE p) : h(p) {}
  ~Profile() {
    if (h) cmsCloseProfile(h);
  }
  Profile(const Profile&) = delete;
  Profile& operator=(const Profile&) = delete;
  cmsHPROFILE h;
};

const char* space_name(cmsColorSpaceSignature s) {
  switch (s) {
    case cmsSigRgbData:
      return "RGB";
    case cmsSigGrayData:
      return "grey";
    case cmsSigCmykData:
      return "CMYK";
    case cmsSigLabData:
      return "Lab";
    case cmsSigXYZData:
      return "XYZ";
    default:
      return "unsupported";
  }
}

// The colour space of the decoded pixels, as libvips' own profile check sees it.
cmsColorSpaceSignature pixel_space(const VImage& img) {
  switch (img.interpretation()) {
    case VIPS_INTERPRETATION_CMYK:
      return cmsSigCmykData;
    case VIPS_INTERPRETATION_B_W:
    case VIPS_INTERPRETATION_GREY16:
      return cmsSigGrayData;
    case VIPS_INTERPRETATION_sRGB:
    case VIPS_INTERPRETATION_RGB:
    case VIPS_INTERPRETATION_RGB16:
      return cmsSigRgbData;
    default:
      return cmsColorSpaceSignature(0);
  }
}

// Relative colorimetric first: libvips' default, and exact for matrix/TRC display profiles.
// CMYK print profiles first perceptual, which maps the print gamut for a display. Then whatever
// the profile has (libvips 8.14 only warns and leaves the pixels untransformed when the intent
// it is given is missing, e.g. an XYB JPEG's profile, which has only a perceptual table).
constexpr std::array<VipsIntent, 4> kRgbIntents = {VIPS_INTENT_RELATIVE, VIPS_INTENT_PERCEPTUAL,
                                                   VIPS_INTENT_SATURATION, VIPS_INTENT_ABSOLUTE};
constexpr std::array<VipsIntent, 4> kCmykIntents = {VIPS_INTENT_PERCEPTUAL, VIPS_INTENT_RELATIVE,
                                                    VIPS_INTENT_SATURATION, VIPS_INTENT_ABSOLUTE};

// Why the attached profile cannot be used for `img`; nullopt and `intent` set when it can.
std::optional<std::string> check_profile(const VImage& img, VipsIntent& intent) {
  const void* data = nullptr;
  std::size_t len = 0;
  if (vips_image_get_blob(img.get_image(), VIPS_META_ICC_NAME, &data, &len) != 0 ||
      len > std::numeric_limits<cmsUInt32Number>::max())
    return "the profile cannot be read";
  t_lcms_error.clear();
  Profile p(cmsOpenProfileFromMemTHR(lcms(), data, cmsUInt32Number(len)));
  if (!p.h)
    return "lcms cannot parse the profile" + (t_lcms_error.empty() ? "" : ": " + t_lcms_error);
  cmsProfileClassSignature cls = cmsGetDeviceClass(p.h);
  if (cls == cmsSigLinkClass || cls == cmsSigAbstractClass || cls == cmsSigNamedColorClass)
    return "a device-link, abstract or named-colour profile does not describe an image";
  cmsColorSpaceSignature have = cmsGetColorSpace(p.h), want = pixel_space(img);
  if (have != want)
    return std::string("a ") + space_name(have) + " profile on " + space_name(want) + " pixels";
  for (VipsIntent i : want == cmsSigCmykData ? kCmykIntents : kRgbIntents) {
    if (cmsIsIntentSupported(p.h, i, LCMS_USED_AS_INPUT)) {
      intent = i;
      return std::nullopt;
    }
  }
  return "the profile supports no rendering intent as an input profile";
}

VImage without_profile(VImage img) {
  img = img.copy();
  vips_image_remove(img.get_image(), VIPS_META_ICC_NAME);
  return img;
}

void report_ignored(const std::string& reason) {
  log_imaging_event(obs::Level::Warn, "icc_profile_ignored", {{"reason", reason}});
}

VImage transform(VImage img, const ColourSource& src) {
  if (src.kind != ColourSource::Kind::Assumed)
    return img.icc_transform(
        "srgb", VImage::option()->set("embedded", true)->set("intent", int(src.intent)));
  if (img.interpretation() == VIPS_INTERPRETATION_CMYK)
    return img.icc_transform(
        "srgb", VImage::option()->set("input_profile", "cmyk")->set("intent", int(src.intent)));
  return img;
}

uint32_t be32(std::string_view s, std::size_t p) {
  return uint32_t(uint8_t(s[p])) << 24 | uint32_t(uint8_t(s[p + 1])) << 16 |
         uint32_t(uint8_t(s[p + 2])) << 8 | uint32_t(uint8_t(s[p + 3]));
}

bool plausible_chromaticities(const std::array<double, 8>& c) {
  for (std::size_t i = 0; i < c.size(); i += 2)
    if (c[i] <= 0 || c[i] >= 1 || c[i + 1] <= 0 || c[i + 1] >= 1 || c[i] + c[i + 1] > 1)
      return false;
  return true;
}

std::string save(cmsHPROFILE h) {
  cmsUInt32Number n = 0;
  if (!h || !cmsSaveProfileToMem(h, nullptr, &n)) return {};
  std::string out(n, '\0');
  if (!cmsSaveProfileToMem(h, out.data(), &n)) return {};
  return out;
}

// The newest entry of libvips' error buffer, which may still hold other calls' errors.
std::string last_line(std::string_view text) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

}  // namespace

std::string png_chunk_profile(std::string_view png, bool grey) {
  static constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  if (png.substr(0, 8) != kSignature) return {};
  std::optional<double> gamma;
  std::optional<std::array<double, 8>> chrm;  // white x,y, red x,y, green x,y, blue x,y
  // Colour chunks precede IDAT; each step advances by at least 12 bytes.
  for (std::size_t p = 8; p + 12 <= png.size();) {
    uint32_t len = be32(png, p);
    std::string_view type = png.substr(p + 4, 4);
    if (len > png.size() - p - 12 || type == "IDAT" || type == "IEND") break;
    if (type == "sRGB" || type == "iCCP") return {};  // these override gAMA and cHRM
    if (type == "gAMA" && len == 4) gamma = be32(png, p + 8) / 100000.0;
    if (type == "cHRM" && len == 32) {
      std::array<double, 8> c{};
      for (std::size_t i = 0; i < c.size(); ++i) c[i] = be32(png, p + 8 + 4 * i) / 100000.0;
      if (plausible_chromaticities(c)) chrm = c;
    }
    p += 12 + len;
  }
  static constexpr std::array<double, 8> kSrgb = {0.3127, 0.3290, 0.64, 0.33,
                                                  0.30,   0.60,   0.15, 0.06};
  if (gamma && (*gamma < 0.05 || *gamma > 5)) gamma.reset();  // nonsense: ignore the chunk
  bool gamma_differs = gamma && std::abs(*gamma * 2.2 - 1) > 0.02;
  bool chrm_differs = false;
  if (chrm && !grey)  // a grey image is mapped white to white: only the tone curve matters
    for (std::size_t i = 0; i < kSrgb.size(); ++i)
      chrm_differs = chrm_differs || std::abs((*chrm)[i] - kSrgb[i]) > 0.01;
  if (!gamma_differs && !chrm_differs) return {};

  const std::array<double, 8>& c = chrm ? *chrm : kSrgb;
  cmsContext ctx = lcms();
  // Without gAMA, the sRGB tone curve (IEC 61966-2-1 as an lcms type-4 parametric curve).
  static constexpr cmsFloat64Number kSrgbCurve[5] = {2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92,
                                                     0.04045};
  cmsToneCurve* curve =
      gamma ? cmsBuildGamma(ctx, 1.0 / *gamma) : cmsBuildParametricToneCurve(ctx, 4, kSrgbCurve);
  if (!curve) return {};
  cmsCIExyY white{c[0], c[1], 1.0};
  std::string out;
  if (grey) {
    Profile p(cmsCreateGrayProfileTHR(ctx, &white, curve));
    out = save(p.h);
  } else {
    cmsCIExyYTRIPLE primaries{{c[2], c[3], 1.0}, {c[4], c[5], 1.0}, {c[6], c[7], 1.0}};
    cmsToneCurve* curves[3] = {curve, curve, curve};
    Profile p(cmsCreateRGBProfileTHR(ctx, &white, &primaries, curves));
    out = save(p.h);
  }
  cmsFreeToneCurve(curve);
  return out;
}

ColourSource choose_colour_source(VImage& img, domain::ImageFormat f, std::string_view bytes) {
  ColourSource src;
  if (f == domain::ImageFormat::Png && img.get_typeof(VIPS_META_ICC_NAME) == 0) {
    std::string implied = png_chunk_profile(bytes, pixel_space(img) == cmsSigGrayData);
    if (!implied.empty()) {
      img = img.copy();
      vips_image_set_blob_copy(img.get_image(), VIPS_META_ICC_NAME, implied.data(), implied.size());
      src.kind = ColourSource::Kind::Implied;
    }
  }
  if (img.get_typeof(VIPS_META_ICC_NAME) != 0) {
    if (auto why = check_profile(img, src.intent)) {
      src = ColourSource{};
      src.ignored = *why;
      img = without_profile(img);
    } else if (src.kind == ColourSource::Kind::Assumed) {
      src.kind = ColourSource::Kind::Embedded;
    }
  }
  if (src.kind == ColourSource::Kind::Assumed && pixel_space(img) == cmsSigCmykData)
    src.intent = VIPS_INTENT_PERCEPTUAL;
  return src;
}

VImage to_srgb8(VImage img, domain::ImageFormat f, std::string_view bytes) {
  bool alpha = img.has_alpha();
  ColourSource src = choose_colour_source(img, f, bytes);
  if (!src.ignored.empty()) report_ignored(src.ignored);
  // Alpha travels apart through a profile transform (8.14's icc_transform clips a 16-bit alpha
  // into 8 bits: 32768 → 255, every half-transparent pixel opaque) and out of 16 bits. An 8-bit
  // image without a profile keeps it in place, which is measurably faster.
  std::optional<VImage> alpha8;
  bool transforms =
      src.kind != ColourSource::Kind::Assumed || img.interpretation() == VIPS_INTERPRETATION_CMYK;
  if (alpha && (transforms || img.format() != VIPS_FORMAT_UCHAR)) {
    VImage a = img.extract_band(img.bands() - 1);
    alpha8 = img.format() == VIPS_FORMAT_USHORT ? (a / 257.0).rint().cast(VIPS_FORMAT_UCHAR)
                                                : a.cast(VIPS_FORMAT_UCHAR);
    img = img.extract_band(0, VImage::option()->set("n", img.bands() - 1));
  }
  try {
    img = transform(img, src);
  } catch (const vips::VError& e) {
    // lcms parsed the profile but could not build a transform from it: read the pixels as if
    // there were none, like a profile it cannot parse.
    if (src.kind == ColourSource::Kind::Assumed) throw;
    report_ignored("lcms cannot build a transform from the profile: " + last_line(e.what()));
    vips_error_clear();
    img = without_profile(img);
    src = ColourSource{};
    src.intent = VIPS_INTENT_PERCEPTUAL;
    img = transform(img, src);
  }
  if (img.interpretation() != VIPS_INTERPRETATION_sRGB || img.bands() < 3)
    img = img.colourspace(VIPS_INTERPRETATION_sRGB);
  if (img.format() != VIPS_FORMAT_UCHAR) img = img.cast(VIPS_FORMAT_UCHAR);
  int want = alpha && !alpha8 ? 4 : 3;
  if (img.bands() > want) img = img.extract_band(0, VImage::option()->set("n", want));
  return alpha8 ? img.bandjoin(*alpha8) : img;
}

}  // namespace isvc::imaging
