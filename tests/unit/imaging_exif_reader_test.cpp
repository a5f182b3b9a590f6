// read_exif on EXIF blocks built here byte by byte (little- and big-endian TIFF), including
// malformed entries: a bad value loses its field, never the others, and never throws.
#include "imaging/exif_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "domain/exif_bounds.h"

using isvc::imaging::read_exif;

namespace {

// One IFD entry: tag, type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL), count and value bytes.
struct Entry {
  uint16_t tag, type;
  uint32_t count;
  std::string value;
};

class Tiff {
 public:
  explicit Tiff(bool big_endian) : be_(big_endian) {}
  std::string u16(uint16_t v) const {
    std::string s(2, '\0');
    s[be_ ? 0 : 1] = char(v >> 8);
    s[be_ ? 1 : 0] = char(v & 0xFF);
    return s;
  }
  std::string u32(uint32_t v) const {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[be_ ? 3 - i : i] = char((v >> (8 * i)) & 0xFF);
    return s;
  }
  Entry ascii(uint16_t tag, std::string text) const {
    text.push_back('\0');
    return {tag, 2, uint32_t(text.size()), text};
  }
  Entry rationals(uint16_t tag, std::vector<std::pair<uint32_t, uint32_t>> vs) const {
    std::string v;
    for (auto [n, d] : vs) v += u32(n) + u32(d);
    return {tag, 5, uint32_t(vs.size()), v};
  }
  Entry short_(uint16_t tag, uint16_t v) const {
    return {tag, 3, 1, u16(v) + std::string(2, '\0')};
  }

  // IFD0 with pointers to the EXIF and GPS IFDs; all values out of line after the IFDs.
  std::string build(std::vector<Entry> ifd0, std::vector<Entry> exif, std::vector<Entry> gps) {
    std::string head = std::string(be_ ? "MM" : "II") + u16(42) + u32(8);
    auto ifd_size = [](std::size_t n) { return 2 + 12 * n + 4; };
    if (!exif.empty()) ifd0.push_back({0x8769, 4, 1, ""});
    if (!gps.empty()) ifd0.push_back({0x8825, 4, 1, ""});
    uint32_t o0 = 8, oe = o0 + uint32_t(ifd_size(ifd0.size()));
    uint32_t og = oe + uint32_t(exif.empty() ? 0 : ifd_size(exif.size()));
    uint32_t data_at = og + uint32_t(gps.empty() ? 0 : ifd_size(gps.size()));
    for (auto& e : ifd0) {
      if (e.tag == 0x8769) e.value = u32(oe);
      if (e.tag == 0x8825) e.value = u32(og);
    }
    std::string data;
    auto ifd = [&](std::vector<Entry>& es) {
      std::string out = u16(uint16_t(es.size()));
      for (auto& e : es) {
        out += u16(e.tag) + u16(e.type) + u32(e.count);
        if (e.value.size() <= 4) {
          out += e.value + std::string(4 - e.value.size(), '\0');
        } else {
          out += u32(data_at + uint32_t(data.size()));
          data += e.value;
        }
      }
      return out + u32(0);
    };
    std::string body = ifd(ifd0);
    if (!exif.empty()) body += ifd(exif);
    if (!gps.empty()) body += ifd(gps);
    return head + body + data;
  }

 private:
  bool be_;
};

std::string camera_block(bool be, const std::string& offset = "+02:00") {
  Tiff t(be);
  return t.build(
      {t.ascii(0x010F, "Canon  "), t.ascii(0x0110, "EOS R5")},
      {t.ascii(0x9003, "2023:07:14 18:30:05"), t.ascii(0x9011, offset),
       t.rationals(0x829A, {{1, 250}}), t.rationals(0x829D, {{28, 10}}), t.short_(0x8827, 800),
       t.rationals(0x920A, {{355, 10}}), t.ascii(0xA434, "RF24-105mm F4 L IS USM")},
      {t.ascii(1, "N"), t.rationals(2, {{48, 1}, {51, 1}, {2964, 100}}), t.ascii(3, "W"),
       t.rationals(4, {{2, 1}, {17, 1}, {4020, 100}})});
}

}  // namespace

TEST(ExifReader, ReadsTheCameraFactsInBothByteOrders) {
  for (bool be : {false, true}) {
    for (std::string prefix : {std::string("Exif\0\0", 6), std::string()}) {
      auto f = read_exif(prefix + camera_block(be));
      EXPECT_EQ(f.make, "Canon  ") << be;  // trimmed by bound_exif, not here
      EXPECT_EQ(f.model, "EOS R5");
      EXPECT_EQ(f.lens, "RF24-105mm F4 L IS USM");
      EXPECT_EQ(f.taken_at, "2023-07-14T18:30:05+02:00");
      EXPECT_EQ(f.exposure_num, 1);
      EXPECT_EQ(f.exposure_den, 250);
      EXPECT_DOUBLE_EQ(*f.f_number, 2.8);
      EXPECT_EQ(f.iso, 800);
      EXPECT_DOUBLE_EQ(*f.focal_length_mm, 35.5);
      EXPECT_NEAR(*f.gps_latitude, 48.0 + 51.0 / 60 + 29.64 / 3600, 1e-9);
      EXPECT_NEAR(*f.gps_longitude, -(2.0 + 17.0 / 60 + 40.2 / 3600), 1e-9);
    }
  }
}

TEST(ExifReader, BoundsKeepGpsOnlyWhenAskedAndRoundIt) {
  auto raw = read_exif(camera_block(false));
  auto off = isvc::domain::bound_exif(raw, false);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->gps_latitude, std::nullopt);
  EXPECT_EQ(off->gps_longitude, std::nullopt);
  EXPECT_EQ(off->make, "Canon");
  auto on = isvc::domain::bound_exif(raw, true);
  EXPECT_DOUBLE_EQ(*on->gps_latitude, 48.8582);
  EXPECT_DOUBLE_EQ(*on->gps_longitude, -2.2945);
}

TEST(ExifReader, GarbageAndTruncationNeverThrow) {
  auto good = camera_block(false);
  for (std::size_t n = 0; n < good.size(); n += 3) {
    auto f = read_exif(good.substr(0, n));
    (void)isvc::domain::bound_exif(f, true);
  }
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += char((i * 7919) & 0xFF);
  EXPECT_NO_THROW(read_exif(noise));
  EXPECT_TRUE(read_exif("").empty());
  // An entry pointing past the end, or a rational with a zero denominator, loses that field.
  Tiff t(false);
  auto block = t.build({t.ascii(0x010F, "Nikon")},
                       {t.rationals(0x829A, {{1, 0}}), t.rationals(0x829D, {{0, 0}})}, {});
  auto f = read_exif(block);
  EXPECT_EQ(f.make, "Nikon");
  EXPECT_EQ(f.exposure_num, std::nullopt);
  EXPECT_EQ(f.f_number, std::nullopt);
}

TEST(ExifReader, MalformedDatesAndOffsetsAreDroppedNotRefused) {
  Tiff t(false);
  auto with_date = [&](const std::string& date, const std::string& offset) {
    std::vector<Entry> exif{t.ascii(0x9003, date)};
    if (!offset.empty()) exif.push_back(t.ascii(0x9011, offset));
    return isvc::domain::bound_exif(read_exif(t.build({t.ascii(0x010F, "X")}, exif, {})), false);
  };
  EXPECT_EQ(with_date("2023:07:14 18:30:05", "")->taken_at, "2023-07-14T18:30:05");
  EXPECT_EQ(with_date("2023:07:14 18:30:05", "-05:30")->taken_at, "2023-07-14T18:30:05-05:30");
  // A broken offset loses only the offset.
  EXPECT_EQ(with_date("2023:07:14 18:30:05", "+99:00")->taken_at, "2023-07-14T18:30:05");
  EXPECT_EQ(with_date("2023:07:14 18:30:05", "   :  ")->taken_at, "2023-07-14T18:30:05");
  for (const char* bad : {"0000:00:00 00:00:00", "2023:13:01 00:00:00", "2023:07:14 25:00:00",
                          "    :  :     :  :  ", "1500:01:01 00:00:00", "2023-07-14 18:30:05"}) {
    auto f = with_date(bad, "+01:00");
    ASSERT_TRUE(f) << bad;  // the make stays
    EXPECT_EQ(f->taken_at, std::nullopt) << bad;
  }
}

TEST(ExifReader, ImageMagickRawProfileTextDecodes) {
  std::string block = camera_block(false);
  std::string hex;
  const char* digits = "0123456789abcdef";
  for (std::size_t i = 0; i < block.size(); ++i) {
    hex += digits[uint8_t(block[i]) >> 4];
    hex += digits[uint8_t(block[i]) & 15];
    if (i % 36 == 35) hex += '\n';
  }
  std::string text = "\nexif\n     " + std::to_string(block.size()) + "\n" + hex + "\n";
  EXPECT_EQ(isvc::imaging::raw_profile_bytes(text), block);
  EXPECT_EQ(read_exif(isvc::imaging::raw_profile_bytes(text)).model, "EOS R5");
  // Short, non-hex, or a length it does not hold: nothing.
  EXPECT_EQ(isvc::imaging::raw_profile_bytes("\nexif\n  10\nabcd\n"), "");
  EXPECT_EQ(isvc::imaging::raw_profile_bytes("\nexif\n  2\nzz\n"), "");
  EXPECT_EQ(isvc::imaging::raw_profile_bytes("\nexif\n  99999999999\n00\n"), "");
  EXPECT_EQ(isvc::imaging::raw_profile_bytes(""), "");
}

TEST(ExifReader, PngRawProfileChunksAreFoundInflatedAndCapped) {
  auto chunk = [](const std::string& type, const std::string& data) {
    std::string c;
    for (int i = 3; i >= 0; --i) c += char((data.size() >> (8 * i)) & 0xFF);
    return c + type + data + std::string(4, '\0');  // CRCs are libpng's business, not read here
  };
  std::string text = "\nexif\n  4\n49492a00\n";
  std::string packed(compressBound(uLong(text.size())), '\0');
  uLongf n = uLongf(packed.size());
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(packed.data()), &n,
                     reinterpret_cast<const Bytef*>(text.data()), uLong(text.size())),
            Z_OK);
  packed.resize(n);
  std::string sig = "\x89PNG\r\n\x1a\n";
  std::string ihdr = chunk("IHDR", std::string(13, '\0'));
  std::string z = chunk("zTXt", std::string("Raw profile type exif") + '\0' + '\0' + packed);
  std::string t = chunk("tEXt", std::string("Raw profile type exif") + '\0' + text);
  std::string idat = chunk("IDAT", "x");
  using isvc::imaging::png_raw_profile_text;
  EXPECT_EQ(png_raw_profile_text(sig + ihdr + z + idat, 1 << 20), text);
  EXPECT_EQ(png_raw_profile_text(sig + ihdr + t + idat, 1 << 20), text);
  EXPECT_EQ(png_raw_profile_text(sig + ihdr + z + idat, 5), "");        // past the cap: nothing
  EXPECT_EQ(png_raw_profile_text(sig + ihdr + idat + z, 1 << 20), "");  // after the pixels
  EXPECT_EQ(png_raw_profile_text(sig + ihdr + z.substr(0, z.size() - 9), 1 << 20), "");
  EXPECT_EQ(isvc::imaging::raw_profile_bytes(text), std::string("II*\0", 4));
}
