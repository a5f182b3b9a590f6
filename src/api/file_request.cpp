#include "api/file_request.h"
#include "base/encoding.h"

#include <charconv>
#include <cstring>
#include <ctime>

namespace isvc::api {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  return base::parse_count(s);
}

// A range position: any number of digits, values past what int64 holds saturate (RFC 9110
// §14.1.1: positions may exceed the representation; they are then clamped like any end past
// the object).
std::optional<int64_t> parse_position(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    int d = c - '0';
    v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
  }
  return v;
}

std::string_view strip_weak(std::string_view tag) {
  if (tag.size() >= 2 && tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

}  // namespace

std::optional<std::string> decode_file_key(std::string_view raw) {
  if (raw.empty() || raw.size() > 1024) return std::nullopt;
  auto decoded = base::percent_decode(raw);
  if (!decoded) return std::nullopt;
  const std::string& key = *decoded;
  if (key.rfind("images/", 0) != 0) return std::nullopt;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto slash = key.find('/', start);
    std::string_view seg(key.data() + start,
                         (slash == std::string::npos ? key.size() : slash) - start);
    if (seg.empty() || seg == "." || seg == "..") return std::nullopt;
    for (char c : seg) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '\\') return std::nullopt;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return key;
}

void append_key_for_url(std::string& out, std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto kept = [](unsigned char c) {  // ASCII, no locale
    bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    return alnum || c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
  };
  std::size_t i = 0;
  while (i < key.size()) {
    std::size_t run = i;
    while (run < key.size() && kept(static_cast<unsigned char>(key[run]))) ++run;
    out.append(key.data() + i, run - i);  // an ordinary key is one run
    if (run == key.size()) break;
    auto c = static_cast<unsigned char>(key[run]);
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
    i = run + 1;
  }
}

std::string encode_key_for_url(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  append_key_for_url(out, key);
  return out;
}

std::string format_http_date(int64_t unix_s) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<int64_t> parse_http_date(std::string_view text) {
  // IMF-fixdate only (what every current client sends): "Sun, 06 Nov 1994 08:49:37 GMT".
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  text = trim(text);
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT")
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) { return parse_uint(text.substr(pos, len)); };
  auto day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2), ss = num(23, 2);
  if (!day || !year || !hh || !mm || !ss || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
      text[19] != ':' || text[22] != ':')
    return std::nullopt;
  int month = -1;
  for (int i = 0; i < 12; ++i)
    if (text.substr(8, 3) == kMonths[i]) month = i + 1;
  if (month < 0 || *day < 1 || *day > 31 || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  // Days from civil (proleptic Gregorian), so no locale or timegm is involved.
  int64_t y = *year - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + *day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + *hh * 3600 + *mm * 60 + *ss;
}

bool not_modified(const http::Request& req, std::string_view etag, int64_t last_modified_s) {
  if (auto inm = req.header("If-None-Match")) {
    std::string_view list = *inm;
    if (trim(list) == "*") return true;
    std::size_t start = 0;
    while (start < list.size()) {
      auto comma = list.find(',', start);
      auto item = trim(list.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (strip_weak(item) == strip_weak(etag)) return true;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return false;
  }
  if (auto ims = req.header("If-Modified-Since")) {
    auto t = parse_http_date(*ims);
    return t && last_modified_s <= *t;
  }
  return false;
}

bool range_applies(const http::Request& req, std::string_view etag) {
  auto ir = req.header("If-Range");
  if (!ir) return true;
  auto v = trim(*ir);
  return v.substr(0, 2) != "W/" && v == etag;
}

RangeResult parse_single_range(std::string_view header, int64_t size) {
  header = trim(header);
  if (header.substr(0, 6) != "bytes=") return {};
  auto spec = trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return {};
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  auto a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  RangeResult r;
  if (a.empty()) {  // suffix range: the last N bytes
    auto n = parse_position(b);
    if (!n) return {};
    if (*n == 0 || size == 0) return {RangeKind::Unsatisfiable, 0, 0};
    r.first = *n >= size ? 0 : size - *n;
    r.last = size - 1;
  } else {
    auto first = parse_position(a);
    if (!first) return {};
    std::optional<int64_t> last;
    if (!b.empty()) {
      last = parse_position(b);
      if (!last || *last < *first) return {};
    }
    if (*first >= size) return {RangeKind::Unsatisfiable, 0, 0};
    r.first = *first;
    r.last = last ? std::min(*last, size - 1) : size - 1;
  }
  r.kind = RangeKind::Satisfiable;
  return r;
}

}  // namespace isvc::api
