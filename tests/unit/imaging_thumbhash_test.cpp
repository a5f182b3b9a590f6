// ThumbHash and dominant colour (imaging/thumbhash.h) on synthetic pixel arrays: the expected
// hashes are npm thumbhash 0.1.1's rgbaToThumbHash for the same arrays (built by the same formulas
// in Node 20), so any difference in arithmetic, order of terms, rounding or cos() shows here.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "imaging/thumbhash.h"

namespace isvc::imaging {
namespace {

// The pixels of each case, as the generator in Node built them (a 32-bit LCG for noise).
std::vector<uint8_t> fill(const std::string& kind, int w, int h) {
  std::vector<uint8_t> px(std::size_t(w) * h * 4);
  uint32_t s = 1;
  auto next = [&] {
    s = s * 1103515245u + 12345u;
    return uint8_t(s >> 24);
  };
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(std::size_t(y) * w + x) * 4];
      if (kind == "noise" || kind == "noise_opaque" || kind == "transparent") {
        p[0] = next();
        p[1] = next();
        p[2] = next();
        p[3] = kind == "noise" ? next() : kind == "noise_opaque" ? 255 : 0;
      } else if (kind == "gradient") {
        p[0] = uint8_t(x * 255 / std::max(1, w - 1));
        p[1] = uint8_t(y * 255 / std::max(1, h - 1));
        p[2] = uint8_t((x * y) & 255);
        p[3] = 255;
      } else if (kind == "alpha_ramp") {
        p[0] = 200;
        p[1] = uint8_t((x * 7) & 255);
        p[2] = uint8_t((y * 11) & 255);
        p[3] = uint8_t((x + y) * 255 / std::max(1, w + h - 2));
      } else if (kind == "solid") {
        p[0] = 37, p[1] = 99, p[2] = 180, p[3] = 255;
      } else if (kind == "half_alpha") {
        p[0] = 200, p[1] = 100, p[2] = 50, p[3] = 128;
      } else {
        ADD_FAILURE() << kind;
      }
    }
  }
  return px;
}

struct Vector {
  const char* kind;
  int w, h;
  const char* expected;  // base64 of npm thumbhash's bytes
};

TEST(ThumbHash, EqualsNpmThumbhashByteForByte) {
  // 1x1, fully transparent, uniform (every AC term zero in theory: the nibbles come from cos()'s
  // last bits), 100x100, landscape, portrait, alpha, a single row and a single column.
  const Vector vectors[] = {
      {"noise", 1, 1, "FVqpjSrMCPeIh3B/+AiIcH/4CPeIh3B/+A=="},
      {"solid", 1, 1, "moQ15x4I9wiIh4hwj3CI+AiIcH/494cP"},
      {"half_alpha", 1, 1, "Hcu6zTKICPeIh3B/+AiIgIAICPeIh3B/+A=="},
      {"transparent", 7, 5, "AAiCBIAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="},
      {"solid", 100, 75, "moQBBYCHh4iIeIeAeIh3e3iIgHf4"},
      {"gradient", 100, 100, "HwgKNxpwdndwd3d3d2d3d3d3BwiIgH8H"},
      {"noise_opaque", 100, 100, "H/gBBwJYdvV/yVd5hll1lbhp1gRqd0cP"},
      {"noise", 100, 100, "H/iBBQAHVzNJZY91hWNSENz0BeO3m4t4FQ=="},
      {"gradient", 100, 37, "X/gJK5pwdndwd3d3kJAK+Hc="},
      {"gradient", 23, 100, "XggOIhpgcXeHdnd3sZAK+Hc="},
      {"alpha_ramp", 64, 48, "5ZiGFIInV9GUmIkIafZm/GYHdyeHd3d3Bw=="},
      {"alpha_ramp", 1, 100, "G4e3OWJ3CIh3eHj3h4iAiAj3hIuId4g="},
      {"noise_opaque", 100, 1, "IOhBCYiIh3iIiAh3iohwevg="},
      {"gradient", 50, 50, "XggKJxpwdndwd4d3iGiHeIeHBwu5gI8H"},
  };
  for (const auto& v : vectors) {
    auto px = fill(v.kind, v.w, v.h);
    EXPECT_EQ(base::base64_encode(thumbhash_from_rgba(v.w, v.h, px)), v.expected)
        << v.kind << " " << v.w << "x" << v.h;
  }
}

TEST(ThumbHash, RefusesSizesOutside1To100AndWrongBufferLengths) {
  std::vector<uint8_t> px(101 * 4, 255);
  EXPECT_THROW(thumbhash_from_rgba(0, 1, {}), std::invalid_argument);
  EXPECT_THROW(thumbhash_from_rgba(101, 1, px), std::invalid_argument);
  EXPECT_THROW(thumbhash_from_rgba(1, 101, px), std::invalid_argument);
  EXPECT_THROW(thumbhash_from_rgba(2, 2, px), std::invalid_argument);  // 404 bytes, not 16
  EXPECT_THROW(dominant_color(2, 2, px), std::invalid_argument);
}

TEST(DominantColor, IsTheMeanOfTheMostPopulatedCellWeightedByAlpha) {
  auto solid = fill("solid", 100, 75);
  EXPECT_EQ(dominant_color(100, 75, solid), "#2563b4");  // exactly the colour: 37, 99, 180
  EXPECT_EQ(dominant_color(7, 5, fill("transparent", 7, 5)), std::nullopt);

  // 6 faint red pixels (alpha 40) against 4 opaque blue ones: blue carries more weight.
  std::vector<uint8_t> px;
  for (int i = 0; i < 6; ++i) px.insert(px.end(), {255, 0, 0, 40});
  for (int i = 0; i < 4; ++i) px.insert(px.end(), {0, 0, 255, 255});
  EXPECT_EQ(dominant_color(10, 1, px), "#0000ff");

  // Two shades in one cell (values 10 and 21 are both in 0..31): their weighted mean, 15.5 → 16.
  px.clear();
  px.insert(px.end(), {10, 10, 10, 255, 21, 21, 21, 255, 200, 0, 0, 255});
  EXPECT_EQ(dominant_color(3, 1, px), "#101010");
  // A tie between cells goes to the lower one.
  px = {0, 0, 0, 255, 255, 255, 255, 255};
  EXPECT_EQ(dominant_color(2, 1, px), "#000000");
}

}  // namespace
}  // namespace isvc::imaging
