#include "domain/model/upload_record.h"

#include <boost/json.hpp>

namespace isvc::domain {

namespace json = boost::json;

namespace {
void put(json::object& o, const char* k, const std::optional<std::string>& v) {
  if (v) o[k] = *v;
}
std::optional<std::string> opt(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}
}  // namespace

std::string UploadRecord::fields_json() const {
  json::object o;
  o["filename"] = filename;
  o["contentType"] = content_type;
  o["contentLength"] = content_length;
  put(o, "title", title);
  put(o, "description", description);
  put(o, "altText", alt_text);
  put(o, "albumId", album_id);
  json::array t;
  for (const auto& s : tags) t.emplace_back(s);
  o["tags"] = std::move(t);
  return json::serialize(o);
}

bool UploadRecord::read_fields_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.as_object();
  auto fn = opt(o, "filename");
  auto ct = opt(o, "contentType");
  auto* len = o.if_contains("contentLength");
  if (!fn || !ct || !len || !len->is_int64()) return false;
  filename = *fn;
  content_type = *ct;
  content_length = len->as_int64();
  title = opt(o, "title");
  description = opt(o, "description");
  alt_text = opt(o, "altText");
  album_id = opt(o, "albumId");
  tags.clear();
  if (auto* t = o.if_contains("tags"); t && t->is_array())
    for (const auto& e : t->as_array())
      if (e.is_string()) tags.emplace_back(e.as_string());
  return true;
}

}  // namespace isvc::domain
