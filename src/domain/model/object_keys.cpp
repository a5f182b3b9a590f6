#include "domain/model/object_keys.h"

namespace isvc::domain {

std::string encode_user_id_for_key(std::string_view user_id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (user_id == ".") return "%2E";
  if (user_id == "..") return "%2E%2E";
  std::string out;
  for (unsigned char c : user_id) {
    bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    if (safe) {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string user_key_prefix(std::string_view user_id) {
  return "images/" + encode_user_id_for_key(user_id) + "/";
}

std::string main_object_key(std::string_view user_id, std::string_view image_id) {
  return user_key_prefix(user_id) + std::string(image_id) + ".webp";
}

std::string thumbnail_object_key(std::string_view user_id, std::string_view image_id) {
  return user_key_prefix(user_id) + "thumbnails/" + std::string(image_id) + ".webp";
}

std::string variant_prefix(std::string_view user_id, std::string_view image_id) {
  return user_key_prefix(user_id) + "variants/" + std::string(image_id) + "/";
}

std::string variant_object_key(std::string_view user_id, std::string_view image_id, int width,
                               std::string_view extension) {
  return variant_prefix(user_id, image_id) + std::to_string(width) + "." + std::string(extension);
}

std::optional<VariantKey> parse_variant_key(std::string_view key) {
  // images/{user}/variants/{id}/{width}.{ext}: exactly five segments.
  std::string_view parts[5];
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    auto slash = key.find('/', start);
    if ((i < 4) == (slash == std::string_view::npos)) return std::nullopt;
    parts[i] = key.substr(start, i < 4 ? slash - start : std::string_view::npos);
    if (parts[i].empty()) return std::nullopt;
    start = slash + 1;
  }
  if (parts[0] != "images" || parts[2] != "variants" || parts[3].size() > 64) return std::nullopt;
  auto dot = parts[4].find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 5) return std::nullopt;
  int width = 0;
  for (char c : parts[4].substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    width = width * 10 + (c - '0');
  }
  if (parts[4][0] == '0') return std::nullopt;  // one spelling per width
  VariantKey v;
  v.encoded_user = std::string(parts[1]);
  v.image_id = std::string(parts[3]);
  v.extension = std::string(parts[4].substr(dot + 1));
  v.width = width;
  return v;
}

std::string temp_object_key(std::string_view upload_id) {
  return "temp/" + std::string(upload_id);
}

bool is_image_key(std::string_view key) {
  return key.substr(0, 7) == "images/";
}

bool valid_object_key(std::string_view key) {
  if (key.empty() || key.size() > 1024 || key.front() == '/') return false;
  std::size_t start = 0;
  while (true) {
    auto slash = key.find('/', start);
    auto seg =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '\\') return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace isvc::domain
