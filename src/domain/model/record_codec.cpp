#include "domain/model/record_codec.h"

#include <boost/json.hpp>

namespace isvc::domain {

namespace json = boost::json;

namespace {

void opt(json::object& o, const char* k, const std::optional<std::string>& v) {
  if (v) o[k] = *v;
}

std::optional<std::string> opt_str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v || v->is_null()) return std::nullopt;
  return std::string(v->as_string());
}

}  // namespace

std::string encode_record(const ImageRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["u"] = r.user_id;
  opt(o, "al", r.album_id);
  o["fn"] = r.original_filename;
  o["mt"] = r.mime_type;
  o["fs"] = r.file_size;
  o["ps"] = r.processed_size;
  o["ts"] = r.thumbnail_size;
  o["w"] = r.width;
  o["h"] = r.height;
  o["k"] = r.s3_key;
  o["b"] = r.s3_bucket;
  opt(o, "tk", r.thumbnail_key);
  o["st"] = r.processing_status;
  opt(o, "pe", r.processing_error);
  o["f"] = r.format;
  o["q"] = r.quality;
  opt(o, "ti", r.title);
  opt(o, "de", r.description);
  opt(o, "at", r.alt_text);
  json::array tags;
  for (const auto& t : r.tags) tags.emplace_back(t);
  o["tg"] = std::move(tags);
  o["c"] = r.created_at_ms;
  o["up"] = r.updated_at_ms;
  o["ul"] = r.uploaded_at_ms;
  o["v"] = r.version;
  o["s"] = r.state == ImageState::Active ? 0 : 1;
  opt(o, "th", r.thumbhash);
  opt(o, "dc", r.dominant_color);
  if (r.exif) o["ex"] = encode_exif(*r.exif);
  opt(o, "sh", r.sha256);
  if (r.variant_keys) {
    json::array ks;
    for (const auto& k : *r.variant_keys) ks.emplace_back(k);
    o["vk"] = std::move(ks);
    o["vn"] = r.variant_rev;
  }
  return json::serialize(o);
}

std::optional<ImageRecord> decode_record(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  try {
    const auto& o = v.as_object();
    ImageRecord r;
    r.id = o.at("id").as_string();
    r.user_id = o.at("u").as_string();
    r.album_id = opt_str(o, "al");
    r.original_filename = o.at("fn").as_string();
    r.mime_type = o.at("mt").as_string();
    r.file_size = o.at("fs").to_number<int64_t>();
    r.processed_size = o.at("ps").to_number<int64_t>();
    r.thumbnail_size = o.at("ts").to_number<int64_t>();
    r.width = o.at("w").to_number<int>();
    r.height = o.at("h").to_number<int>();
    r.s3_key = o.at("k").as_string();
    r.s3_bucket = o.at("b").as_string();
    r.thumbnail_key = opt_str(o, "tk");
    r.processing_status = o.at("st").as_string();
    r.processing_error = opt_str(o, "pe");
    r.format = o.at("f").as_string();
    r.quality = o.at("q").to_number<int>();
    r.title = opt_str(o, "ti");
    r.description = opt_str(o, "de");
    r.alt_text = opt_str(o, "at");
    for (const auto& t : o.at("tg").as_array()) r.tags.emplace_back(t.as_string());
    r.created_at_ms = o.at("c").to_number<int64_t>();
    r.updated_at_ms = o.at("up").to_number<int64_t>();
    r.uploaded_at_ms = o.at("ul").to_number<int64_t>();
    r.version = o.at("v").to_number<int64_t>();
    r.state = o.at("s").to_number<int>() == 0 ? ImageState::Active : ImageState::Deleting;
    r.thumbhash = opt_str(o, "th");
    r.dominant_color = opt_str(o, "dc");
    if (auto ex = opt_str(o, "ex")) {
      r.exif = decode_exif(*ex);
      if (!r.exif) return std::nullopt;
    }
    r.sha256 = opt_str(o, "sh");
    if (auto* vk = o.if_contains("vk")) {
      r.variant_keys.emplace();
      for (const auto& k : vk->as_array()) r.variant_keys->emplace_back(k.as_string());
      r.variant_rev = o.at("vn").to_number<int64_t>();
    }
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace isvc::domain
