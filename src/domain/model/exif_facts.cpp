#include "domain/model/exif_facts.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

namespace isvc::domain {

namespace json = boost::json;

namespace {

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

template <class T>
void put(json::object& o, const char* k, const std::optional<T>& v) {
  if (v) o[k] = *v;
}

std::optional<std::string> get_str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<int64_t> get_int(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  return v->to_number<int64_t>();
}

std::optional<double> get_double(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  return v->to_number<double>();
}

}  // namespace

bool ExifFacts::empty() const {
  return !taken_at && !make && !model && !lens && !exposure_num && !f_number && !iso &&
         !focal_length_mm && !gps_latitude && !gps_longitude;
}

std::optional<int64_t> taken_at_ms(const ExifFacts& f) {
  if (!f.taken_at) return std::nullopt;
  std::string_view s = *f.taken_at;
  int y, mo, d, h, mi, se;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      !digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, se))
    return std::nullopt;
  if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
    return std::nullopt;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  if (s.size() == 25) {
    int oh, om;
    if ((s[19] != '+' && s[19] != '-') || s[22] != ':' || !digits(s, 20, 2, oh) ||
        !digits(s, 23, 2, om) || oh > 14 || om > 59)
      return std::nullopt;
    int64_t off = oh * 3600 + om * 60;
    secs -= s[19] == '+' ? off : -off;
  } else if (s.size() != 19) {
    return std::nullopt;
  }
  return secs * 1000;
}

std::string exposure_text(int64_t num, int64_t den) {
  double secs = double(num) / double(den);
  char buf[32];
  if (secs > 0 && secs < 0.25001) {
    std::snprintf(buf, sizeof buf, "1/%lld", static_cast<long long>(std::floor(0.5 + 1 / secs)));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", secs);
    std::string t = buf;
    if (t.size() > 2 && t.ends_with(".0")) t.resize(t.size() - 2);
    return t;
  }
  return buf;
}

std::string encode_exif(const ExifFacts& f) {
  json::object o;
  put(o, "t", f.taken_at);
  put(o, "mk", f.make);
  put(o, "md", f.model);
  put(o, "l", f.lens);
  put(o, "en", f.exposure_num);
  put(o, "ed", f.exposure_den);
  put(o, "fn", f.f_number);
  put(o, "iso", f.iso);
  put(o, "fl", f.focal_length_mm);
  put(o, "la", f.gps_latitude);
  put(o, "lo", f.gps_longitude);
  return json::serialize(o);
}

std::optional<ExifFacts> decode_exif(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  try {
    const auto& o = v.as_object();
    ExifFacts f;
    f.taken_at = get_str(o, "t");
    f.make = get_str(o, "mk");
    f.model = get_str(o, "md");
    f.lens = get_str(o, "l");
    f.exposure_num = get_int(o, "en");
    f.exposure_den = get_int(o, "ed");
    f.f_number = get_double(o, "fn");
    f.iso = get_int(o, "iso");
    f.focal_length_mm = get_double(o, "fl");
    f.gps_latitude = get_double(o, "la");
    f.gps_longitude = get_double(o, "lo");
    if (f.exposure_num.has_value() != f.exposure_den.has_value()) return std::nullopt;
    if (f.exposure_den && *f.exposure_den <= 0) return std::nullopt;
    return f;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace isvc::domain
