#include "domain/validation.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <ctime>

#include "domain/model/error.h"

namespace isvc::domain {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid (overlong,
// surrogate, > U+10FFFF, truncated).
std::size_t utf8_sequence(std::string_view s, std::size_t i, uint32_t& cp) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_ascii_space(s[b])) ++b;
  while (e > b && is_ascii_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// C0, DEL, C1, and the Unicode line/paragraph separators (line breaks, like \n).
bool is_control(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029;
}

// What a multi-line field (description) may keep of the controls.
bool is_line_space(uint32_t cp) {
  return cp == '\n' || cp == '\r' || cp == '\t' || cp == 0x2028 || cp == 0x2029;
}

bool is_invisible_format(uint32_t cp) {
  return cp == 0x00AD || cp == 0x061C || cp == 0x180E || cp == 0x200B || cp == 0x200E ||
         cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         (cp >= 0x1D173 && cp <= 0x1D17A) || cp == 0xE0001;
}

std::size_t code_points_checked(const std::string& field, std::string_view value, bool multiline) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < value.size();) {
    uint32_t cp = 0;
    std::size_t len = utf8_sequence(value, i, cp);
    if (len == 0) throw Error::validation(field, field + " is not valid UTF-8");
    if (is_control(cp) && !(multiline && is_line_space(cp)))
      throw Error::validation(field, field + " contains control characters");
    i += len;
    ++n;
  }
  return n;
}

}  // namespace

void validate_text(const std::string& field, std::string_view value, std::size_t max_chars,
                   bool multiline) {
  if (code_points_checked(field, value, multiline) > max_chars)
    throw Error::validation(
        field, field + " must be at most " + std::to_string(max_chars) + " characters");
}

std::string strip_invisible(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    std::size_t len = utf8_sequence(text, i, cp);
    if (len == 0) {
      out += text[i++];  // invalid: kept for validate_text to refuse
      continue;
    }
    if (!is_invisible_format(cp)) out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

std::string collapse_controls(std::string_view text, bool multiline) {
  std::string out;
  out.reserve(text.size());
  bool replaced = false, in_run = false;
  for (std::size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    std::size_t len = utf8_sequence(text, i, cp);
    if (len == 0) {
      out += text[i++];
      in_run = false;
      continue;
    }
    if (is_control(cp) && !(multiline && is_line_space(cp))) {
      if (!in_run) out += ' ';
      in_run = replaced = true;
    } else {
      out.append(text.substr(i, len));
      in_run = false;
    }
    i += len;
  }
  return replaced && !multiline ? trim(out) : out;
}

std::vector<std::string> normalize_tags(const std::vector<std::string>& raw,
                                        const FieldLimits& limits) {
  std::vector<std::string> out;
  for (const auto& r : raw) {
    std::string t = trim(r);
    if (t.empty()) continue;
    bool dup = false;
    for (const auto& o : out) dup = dup || o == t;
    if (!dup) out.push_back(std::move(t));
  }
  if (out.size() > limits.max_tags)
    throw Error::validation("tags", "at most " + std::to_string(limits.max_tags) + " tags");
  for (const auto& t : out) {
    if (code_points_checked("tags", t, false) > limits.tag_length)
      throw Error::validation(
          "tags", "each tag must be at most " + std::to_string(limits.tag_length) + " characters");
  }
  return out;
}

std::vector<std::string> tags_from_form_values(const std::vector<std::string>& values) {
  if (values.size() == 1) {
    std::string t = trim(values[0]);
    if (!t.empty() && t.front() == '[') {
      if (t.size() > 64 * 1024) throw Error::validation("tags", "tags value too long");
      boost::system::error_code ec;
      auto v = boost::json::parse(t, ec);
      if (ec || !v.is_array())
        throw Error::validation("tags", "tags must be a JSON array of strings");
      std::vector<std::string> out;
      for (const auto& e : v.as_array()) {
        if (!e.is_string()) throw Error::validation("tags", "tags must be a JSON array of strings");
        out.emplace_back(e.as_string());
      }
      return out;
    }
  }
  return values;
}

void validate_album_id(std::string_view album_id, const FieldLimits& limits) {
  if (album_id.empty() || album_id.size() > limits.album_id)
    throw Error::validation("albumId", "albumId must be 1-" + std::to_string(limits.album_id) +
                                           " characters of A-Z a-z 0-9 _ -");
  for (char c : album_id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) throw Error::validation("albumId", "albumId may contain only A-Z a-z 0-9 _ -");
  }
}

std::string sanitize_filename(std::string_view raw, const FieldLimits& limits) {
  auto slash = raw.find_last_of("/\\");
  if (slash != std::string_view::npos) raw = raw.substr(slash + 1);
  std::string out;
  std::size_t count = 0;
  for (std::size_t i = 0; i < raw.size() && count < limits.filename;) {
    uint32_t cp = 0;
    std::size_t len = utf8_sequence(raw, i, cp);
    if (len == 0) {  // drop invalid bytes
      ++i;
      continue;
    }
    bool drop = is_control(cp) || is_invisible_format(cp) || cp == '"';
    if (!drop) {
      out.append(raw.substr(i, len));
      ++count;
    }
    i += len;
  }
  std::string trimmed = trim(out);
  if (trimmed.empty() || trimmed == "." || trimmed == "..") return "upload";
  return trimmed;
}

}  // namespace isvc::domain
