#include "imaging/thumbhash.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>
#include <vector>

// The hash must equal the reference's bit for bit, so every floating-point expression below keeps
// the reference's order of operations (left to right, double precision), and this file is built
// with -ffp-contract=off (CMakeLists.txt): a fused multiply-add would round differently.

namespace isvc::imaging {

namespace {

// JavaScript's Math.round: the nearest integer, halves towards +infinity (std::round would take
// -2.5 to -3 and std::nearbyint 2.5 to 2). x - floor(x) is exact for every double we see here.
double js_round(double x) {
  double f = std::floor(x);
  return x - f >= 0.5 ? f + 1 : f;
}

int iround(double x) {
  return static_cast<int>(js_round(x));
}

// cos() as Node's V8 computes it (fdlibm's algorithm: reduction by pi/2 in up to three steps, then
// the kernel polynomials), for 0 <= x < 2^19 * pi/2; every argument here is below 8 * pi. glibc's
// cos() differs from it in the last bit for about 3 % of our arguments, and that bit decides the
// nibble (7 or 8) of every coefficient that is zero in theory, as in any image with a symmetry.
// Constants by their bit patterns (fdlibm's published values).
constexpr double bits(uint64_t b) {
  return std::bit_cast<double>(b);
}
int32_t high_word(double x) {
  return int32_t(std::bit_cast<uint64_t>(x) >> 32);
}

double kernel_cos(double x, double y) {
  const double c1 = bits(0x3FA555555555554C), c2 = bits(0xBF56C16C16C15177),
               c3 = bits(0x3EFA01A019CB1590), c4 = bits(0xBE927E4F809C52AD),
               c5 = bits(0x3E21EE9EBDB4B1C4), c6 = bits(0xBDA8FAE9BE8838D4);
  int32_t ix = high_word(x) & 0x7fffffff;
  if (ix < 0x3e400000 && int(x) == 0) return 1.0;  // |x| < 2^-27
  double z = x * x;
  double r = z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * c6)))));
  if (ix < 0x3FD33333) return 1.0 - (0.5 * z - (z * r - x * y));  // |x| < 0.3
  // 1 - z/2 loses bits for larger |x|: take a representable qx near z/2 out first.
  double qx = ix > 0x3fe90000 ? 0.28125 : std::bit_cast<double>(uint64_t(ix - 0x00200000) << 32);
  double hz = 0.5 * z - qx;
  double a = 1.0 - qx;
  return a - (hz - (z * r - x * y));
}

double kernel_sin(double x, double y) {  // fdlibm's __kernel_sin with a tail (iy = 1)
  const double s1 = bits(0xBFC5555555555549), s2 = bits(0x3F8111111110F8A6),
               s3 = bits(0xBF2A01A019C161D5), s4 = bits(0x3EC71DE357B1FE7D),
               s5 = bits(0xBE5AE5E68A2B9CEB), s6 = bits(0x3DE5D93A5ACFD57C);
  int32_t ix = high_word(x) & 0x7fffffff;
  if (ix < 0x3e400000 && int(x) == 0) return x;
  double z = x * x;
  double v = z * x;
  double r = s2 + z * (s3 + z * (s4 + z * (s5 + z * s6)));
  return x - ((z * (0.5 * y - v * r) - y) - v * s1);
}

// x - n*pi/2 as y0 + y1, |y0| <= pi/4, for 0 <= x < 2^19 * pi/2; returns n.
int reduce_pio2(double x, double& y0, double& y1) {
  const double pio2_1 = bits(0x3FF921FB54400000), pio2_1t = bits(0x3DD0B4611A626331),
               pio2_2 = bits(0x3DD0B4611A600000), pio2_2t = bits(0x3BA3198A2E037073),
               pio2_3 = bits(0x3BA3198A2E000000), pio2_3t = bits(0x397B839A252049C1),
               inv_pio2 = bits(0x3FE45F306DC9C883);
  int32_t ix = high_word(x) & 0x7fffffff;
  if (ix < 0x4002d97c) {  // |x| < 3pi/4: n = 1
    double z = x - pio2_1;
    if (ix != 0x3ff921fb) {  // 33+53 bits of pi/2 are enough
      y0 = z - pio2_1t;
      y1 = (z - y0) - pio2_1t;
    } else {  // near pi/2: 33+33+53 bits
      z -= pio2_2;
      y0 = z - pio2_2t;
      y1 = (z - y0) - pio2_2t;
    }
    return 1;
  }
  int n = int(x * inv_pio2 + 0.5);
  double fn = double(n);
  double r = x - fn * pio2_1;
  double w = fn * pio2_1t;
  // Unless x is close to n*pi/2 (same high word), r - w has lost few bits: done. Otherwise more
  // bits of pi/2 are used while the subtraction cancels.
  if (n < 32 && ix != high_word(n * std::numbers::pi / 2)) {
    y0 = r - w;
  } else {
    int32_t j = ix >> 20;
    y0 = r - w;
    if (j - ((high_word(y0) >> 20) & 0x7ff) > 16) {
      double t = r;
      w = fn * pio2_2;
      r = t - w;
      w = fn * pio2_2t - ((t - r) - w);
      y0 = r - w;
      if (j - ((high_word(y0) >> 20) & 0x7ff) > 49) {
        t = r;
        w = fn * pio2_3;
        r = t - w;
        w = fn * pio2_3t - ((t - r) - w);
        y0 = r - w;
      }
    }
  }
  y1 = (r - y0) - w;
  return n;
}

double js_cos(double x) {
  if ((high_word(x) & 0x7fffffff) <= 0x3fe921fb) return kernel_cos(x, 0.0);  // |x| <= pi/4
  double y0 = 0, y1 = 0;
  switch (reduce_pio2(x, y0, y1) & 3) {
    case 0:
      return kernel_cos(y0, y1);
    case 1:
      return -kernel_sin(y0, y1);
    case 2:
      return -kernel_cos(y0, y1);
    default:
      return kernel_sin(y0, y1);
  }
}

void check_arguments(int w, int h, std::span<const uint8_t> rgba) {
  if (w < 1 || h < 1 || w > kThumbHashMaxSide || h > kThumbHashMaxSide)
    throw std::invalid_argument("thumbhash: the image must be between 1x1 and 100x100, got " +
                                std::to_string(w) + "x" + std::to_string(h));
  if (rgba.size() != std::size_t(w) * std::size_t(h) * 4)
    throw std::invalid_argument("thumbhash: expected w*h*4 bytes of RGBA");
}

struct Channel {
  double dc = 0;
  std::vector<double> ac;  // normalised to 0..1 around 0.5
  double scale = 0;        // the largest |AC| before normalising
};

// The DCT of one channel: the DC term and the AC terms of the triangle cx*ny < nx*(ny-cy), in the
// reference's order (cy outer, cx inner).
Channel encode_channel(const std::vector<double>& values, int w, int h, int nx, int ny) {
  constexpr double kPi = std::numbers::pi;
  Channel out;
  std::vector<double> fx(std::size_t(w), 0.0);
  for (int cy = 0; cy < ny; ++cy) {
    for (int cx = 0; cx * ny < nx * (ny - cy); ++cx) {
      double f = 0;
      for (int x = 0; x < w; ++x) fx[x] = js_cos(kPi / w * cx * (x + 0.5));
      for (int y = 0; y < h; ++y) {
        double fy = js_cos(kPi / h * cy * (y + 0.5));
        for (int x = 0; x < w; ++x) f += values[std::size_t(x + y * w)] * fx[x] * fy;
      }
      f /= w * h;
      if (cx || cy) {
        out.ac.push_back(f);
        out.scale = std::max(out.scale, std::abs(f));
      } else {
        out.dc = f;
      }
    }
  }
  if (out.scale != 0)
    for (double& a : out.ac) a = 0.5 + 0.5 / out.scale * a;
  return out;
}

}  // namespace

std::string thumbhash_from_rgba(int w, int h, std::span<const uint8_t> rgba) {
  check_arguments(w, h, rgba);
  const std::size_t n = std::size_t(w) * std::size_t(h);

  // The average colour, weighted by alpha: what transparent pixels are composited onto.
  double avg_r = 0, avg_g = 0, avg_b = 0, avg_a = 0;
  for (std::size_t i = 0, j = 0; i < n; ++i, j += 4) {
    double alpha = rgba[j + 3] / 255.0;
    avg_r += alpha / 255 * rgba[j];
    avg_g += alpha / 255 * rgba[j + 1];
    avg_b += alpha / 255 * rgba[j + 2];
    avg_a += alpha;
  }
  if (avg_a != 0) {
    avg_r /= avg_a;
    avg_g /= avg_a;
    avg_b /= avg_a;
  }

  const bool has_alpha = avg_a < double(n);
  const int l_limit = has_alpha ? 5 : 7;  // fewer luminance terms leave room for alpha
  const int longest = std::max(w, h);
  const int lx = std::max(1, iround(double(l_limit * w) / longest));
  const int ly = std::max(1, iround(double(l_limit * h) / longest));

  // RGBA → luminance, yellow-blue, red-green and alpha, composited on the average colour.
  std::vector<double> l(n), p(n), q(n), a(n);
  for (std::size_t i = 0, j = 0; i < n; ++i, j += 4) {
    double alpha = rgba[j + 3] / 255.0;
    double r = avg_r * (1 - alpha) + alpha / 255 * rgba[j];
    double g = avg_g * (1 - alpha) + alpha / 255 * rgba[j + 1];
    double b = avg_b * (1 - alpha) + alpha / 255 * rgba[j + 2];
    l[i] = (r + g + b) / 3;
    p[i] = (r + g) / 2 - b;
    q[i] = r - g;
    a[i] = alpha;
  }

  Channel lc = encode_channel(l, w, h, std::max(3, lx), std::max(3, ly));
  Channel pc = encode_channel(p, w, h, 3, 3);
  Channel qc = encode_channel(q, w, h, 3, 3);
  Channel ac;
  if (has_alpha) ac = encode_channel(a, w, h, 5, 5);

  // Header: 24 bits of DCs, luminance scale and the alpha flag; 16 bits of the luminance term
  // count along the shorter side, the chroma scales and the orientation. Ints as in JavaScript's
  // bitwise operators; each byte keeps its low 8 bits, as a Uint8Array does.
  const bool landscape = w > h;
  int header24 = iround(63 * lc.dc) | (iround(31.5 + 31.5 * pc.dc) << 6) |
                 (iround(31.5 + 31.5 * qc.dc) << 12) | (iround(31 * lc.scale) << 18) |
                 (int(has_alpha) << 23);
  int header16 = (landscape ? ly : lx) | (iround(63 * pc.scale) << 3) |
                 (iround(63 * qc.scale) << 9) | (int(landscape) << 15);
  std::vector<int> hash{header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255,
                        header16 >> 8};
  if (has_alpha) hash.push_back(iround(15 * ac.dc) | (iround(15 * ac.scale) << 4));

  // The AC terms, two 4-bit values per byte, low nibble first.
  const std::size_t ac_start = hash.size();
  std::size_t index = 0;
  auto put = [&](const Channel& c) {
    for (double f : c.ac) {
      std::size_t at = ac_start + (index >> 1);
      if (at >= hash.size()) hash.resize(at + 1, 0);
      hash[at] |= iround(15 * f) << ((index & 1) << 2);
      ++index;
    }
  };
  put(lc);
  put(pc);
  put(qc);
  if (has_alpha) put(ac);

  std::string out;
  out.reserve(hash.size());
  for (int v : hash) out.push_back(static_cast<char>(static_cast<uint8_t>(v & 255)));
  return out;
}

std::optional<std::string> dominant_color(int w, int h, std::span<const uint8_t> rgba) {
  check_arguments(w, h, rgba);
  struct Cell {
    double weight = 0, r = 0, g = 0, b = 0;
  };
  std::array<Cell, 512> cells{};
  for (std::size_t j = 0; j + 3 < rgba.size(); j += 4) {
    double alpha = rgba[j + 3];
    if (alpha == 0) continue;
    auto& c = cells[std::size_t((rgba[j] >> 5) << 6 | (rgba[j + 1] >> 5) << 3 | rgba[j + 2] >> 5)];
    c.weight += alpha;
    c.r += alpha * rgba[j];
    c.g += alpha * rgba[j + 1];
    c.b += alpha * rgba[j + 2];
  }
  const Cell* best = &cells[0];
  for (const auto& c : cells)
    if (c.weight > best->weight) best = &c;
  if (best->weight == 0) return std::nullopt;
  auto mean = [&](double sum) { return static_cast<unsigned>(js_round(sum / best->weight)); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", mean(best->r), mean(best->g), mean(best->b));
  return std::string(buf);
}

}  // namespace isvc::imaging
