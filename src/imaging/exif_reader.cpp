#include "imaging/exif_reader.h"

#include <libexif/exif-data.h>
#include <zlib.h>

#include <memory>
#include <string>

namespace isvc::imaging {

namespace {

struct ExifDataFree {
  void operator()(ExifData* d) const { exif_data_unref(d); }
};

class Reader {
 public:
  explicit Reader(ExifData* d) : d_(d), order_(exif_data_get_byte_order(d)) {}

  ExifEntry* entry(ExifIfd ifd, int tag) const {
    return exif_content_get_entry(d_->ifd[ifd], static_cast<ExifTag>(tag));
  }

  // Up to the first NUL of an ASCII entry (cameras pad with NULs and spaces).
  std::optional<std::string> ascii(ExifIfd ifd, int tag) const {
    auto* e = entry(ifd, tag);
    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size == 0) return std::nullopt;
    std::string s(reinterpret_cast<const char*>(e->data), e->size);
    s.resize(std::min(s.find('\0'), s.size()));
    return s;
  }

  std::optional<ExifRational> rational(ExifIfd ifd, int tag, unsigned index = 0) const {
    auto* e = entry(ifd, tag);
    if (!e || e->format != EXIF_FORMAT_RATIONAL || !e->data || e->components <= index ||
        e->size < (index + 1) * 8)
      return std::nullopt;
    ExifRational r = exif_get_rational(e->data + index * 8, order_);
    if (r.denominator == 0) return std::nullopt;
    return r;
  }

  std::optional<double> real(ExifIfd ifd, int tag, unsigned index = 0) const {
    auto r = rational(ifd, tag, index);
    if (!r) return std::nullopt;
    return double(r->numerator) / double(r->denominator);
  }

  std::optional<int64_t> integer(ExifIfd ifd, int tag) const {
    auto* e = entry(ifd, tag);
    if (!e || !e->data || e->components < 1) return std::nullopt;
    if (e->format == EXIF_FORMAT_SHORT && e->size >= 2) return exif_get_short(e->data, order_);
    if (e->format == EXIF_FORMAT_LONG && e->size >= 4) return exif_get_long(e->data, order_);
    return std::nullopt;
  }

  // Degrees from the three rationals (degrees, minutes, seconds) and the N/S or E/W reference.
  std::optional<double> coordinate(int value_tag, int ref_tag, char negative) const {
    auto d = real(EXIF_IFD_GPS, value_tag, 0), m = real(EXIF_IFD_GPS, value_tag, 1),
         s = real(EXIF_IFD_GPS, value_tag, 2);
    auto ref = ascii(EXIF_IFD_GPS, ref_tag);
    if (!d || !m || !s || !ref || ref->empty()) return std::nullopt;
    double v = *d + *m / 60.0 + *s / 3600.0;
    return (*ref)[0] == negative ? -v : v;
  }

 private:
  ExifData* d_;
  ExifByteOrder order_;
};

// "YYYY:MM:DD HH:MM:SS" → "YYYY-MM-DDTHH:MM:SS" (domain::bound_exif checks the values).
std::optional<std::string> iso_time(const std::optional<std::string>& exif_time) {
  if (!exif_time || exif_time->size() < 19) return std::nullopt;
  std::string s = exif_time->substr(0, 19);
  if (s[4] != ':' || s[7] != ':' || s[10] != ' ') return std::nullopt;
  s[4] = s[7] = '-';
  s[10] = 'T';
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string raw_profile_bytes(std::string_view text) {
  // "\nexif\n    1234\n4578696600…": skip blank lines, the name, read the length.
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == '\n' || text[i] == ' ' || text[i] == '\r')) ++i;
  };
  skip_space();
  while (i < text.size() && text[i] != '\n') ++i;  // the profile name
  skip_space();
  std::size_t length = 0;
  bool any = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && length < (1u << 24)) {
    length = length * 10 + std::size_t(text[i++] - '0');
    any = true;
  }
  if (!any || length == 0 || length >= (1u << 24)) return {};
  std::string out;
  out.reserve(std::min(length, text.size() / 2));
  int high = -1;
  for (; i < text.size() && out.size() < length; ++i) {
    int d = hex_digit(text[i]);
    if (d < 0) {
      if (text[i] == '\n' || text[i] == ' ' || text[i] == '\r') continue;
      return {};
    }
    if (high < 0) {
      high = d;
    } else {
      out += char(high * 16 + d);
      high = -1;
    }
  }
  return out.size() == length ? out : std::string();
}

std::string png_raw_profile_text(std::string_view png, std::size_t max_text) {
  constexpr std::string_view kKey = "Raw profile type exif";
  auto u32 = [&](std::size_t at) {
    return uint32_t(uint8_t(png[at])) << 24 | uint32_t(uint8_t(png[at + 1])) << 16 |
           uint32_t(uint8_t(png[at + 2])) << 8 | uint32_t(uint8_t(png[at + 3]));
  };
  for (std::size_t at = 8; at + 12 <= png.size();) {
    std::size_t len = u32(at);
    if (len > png.size() - at - 12) return {};
    std::string_view type = png.substr(at + 4, 4), data = png.substr(at + 8, len);
    at += 12 + len;
    if (type == "IDAT" || type == "IEND") break;  // ImageMagick writes it before the pixels
    if ((type != "tEXt" && type != "zTXt") || !data.starts_with(kKey) ||
        data.size() <= kKey.size() || data[kKey.size()] != '\0')
      continue;
    std::string_view rest = data.substr(kKey.size() + 1);
    if (type == "tEXt") return std::string(rest.substr(0, max_text));
    if (rest.empty() || rest[0] != 0) return {};  // compression method 0: zlib
    rest.remove_prefix(1);
    // Inflated in steps, so that a small chunk costs a small buffer; never past max_text.
    z_stream z{};
    if (inflateInit(&z) != Z_OK) return {};
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(rest.data()));
    z.avail_in = static_cast<uInt>(rest.size());
    std::string out;
    int rc = Z_OK;
    while (rc == Z_OK && out.size() < max_text) {
      std::size_t step = std::min<std::size_t>(64 << 10, max_text - out.size());
      std::size_t had = out.size();
      out.resize(had + step);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + had);
      z.avail_out = static_cast<uInt>(step);
      rc = inflate(&z, Z_NO_FLUSH);
      out.resize(had + step - z.avail_out);
      if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // truncated stream
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END ? out : std::string();
  }
  return {};
}

domain::ExifFacts read_exif(std::string_view block) {
  domain::ExifFacts f;
  if (block.empty() || block.size() > (1u << 24)) return f;
  // libvips keeps JPEG's "Exif\0\0" header; PNG's eXIf and WebP's EXIF chunk hold bare TIFF.
  std::string data;
  constexpr std::string_view kHeader("Exif\0\0", 6);
  if (!block.starts_with(kHeader)) data.append(kHeader);
  data.append(block);
  std::unique_ptr<ExifData, ExifDataFree> d(exif_data_new());
  if (!d) return f;
  // Read as written: no "fixing" entries to the specification's defaults.
  exif_data_unset_option(d.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data(d.get(), reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<unsigned>(data.size()));
  Reader r(d.get());
  f.make = r.ascii(EXIF_IFD_0, EXIF_TAG_MAKE);
  f.model = r.ascii(EXIF_IFD_0, EXIF_TAG_MODEL);
  f.lens = r.ascii(EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL);
  f.taken_at = iso_time(r.ascii(EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL));
  if (f.taken_at) {
    auto off = r.ascii(EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL);
    if (off && off->size() == 6) *f.taken_at += *off;  // checked with the time by bound_exif
  }
  if (auto e = r.rational(EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME)) {
    f.exposure_num = e->numerator;
    f.exposure_den = e->denominator;
  }
  f.f_number = r.real(EXIF_IFD_EXIF, EXIF_TAG_FNUMBER);
  f.iso = r.integer(EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS);
  f.focal_length_mm = r.real(EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH);
  f.gps_latitude = r.coordinate(EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, 'S');
  f.gps_longitude = r.coordinate(EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, 'W');
  return f;
}

}  // namespace isvc::imaging
