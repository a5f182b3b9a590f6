// POST /images with application/json: the legacy API's dual-write of a record whose objects
// already exist (SPEC §2, §8). Service role only; idempotent by id.
#include <boost/json.hpp>

#include "api/http_app.h"
#include "api/render.h"
#include "base/time_format.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

namespace {

std::optional<std::string> opt_string(const boost::json::value& v, const char* field) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string())
    throw Error::validation(field, std::string(field) + " must be a string or null");
  return std::string(v.as_string());
}

std::string req_string(const boost::json::value& v, const char* field) {
  if (!v.is_string()) throw Error::validation(field, std::string(field) + " must be a string");
  return std::string(v.as_string());
}

std::optional<int64_t> opt_int(const boost::json::value& v, const char* field) {
  if (v.is_null()) return std::nullopt;
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= uint64_t(INT64_MAX)) return int64_t(v.as_uint64());
  throw Error::validation(field, std::string(field) + " must be an integer or null");
}

int64_t timestamp(const boost::json::value& v, const char* field) {
  if (!v.is_string())
    throw Error::validation(field, std::string(field) + " must be an ISO 8601 timestamp");
  auto t = base::parse_iso8601_ms(v.as_string());
  if (!t) throw Error::validation(field, std::string(field) + " must be an ISO 8601 timestamp");
  return *t;
}

domain::LegacyRecord parse_legacy(const std::string& text) {
  const auto o = parse_json_object(text, 8);
  domain::LegacyRecord l;
  for (const char* required :
       {"id", "userId", "s3Key", "originalFilename", "mimeType", "fileSize", "createdAt"})
    if (!o.contains(required))
      throw Error::validation(required, std::string(required) + " is required");
  // Fields the record does not have (URLs, version …) are ignored: the legacy API sends its own
  // shape and the service derives the rest.
  for (const auto& kv : o) {
    std::string k = kv.key();
    const auto& v = kv.value();
    if (k == "id")
      l.id = req_string(v, "id");
    else if (k == "userId")
      l.user_id = req_string(v, "userId");
    else if (k == "s3Key")
      l.s3_key = req_string(v, "s3Key");
    else if (k == "thumbnailKey")
      l.thumbnail_key = opt_string(v, "thumbnailKey");
    else if (k == "originalFilename")
      l.original_filename = req_string(v, "originalFilename");
    else if (k == "mimeType")
      l.mime_type = req_string(v, "mimeType");
    else if (k == "fileSize") {
      auto n = opt_int(v, "fileSize");
      if (!n) throw Error::validation("fileSize", "fileSize must be an integer");
      l.file_size = *n;
    } else if (k == "width")
      l.width = opt_int(v, "width");
    else if (k == "height")
      l.height = opt_int(v, "height");
    else if (k == "title")
      l.title = opt_string(v, "title");
    else if (k == "description")
      l.description = opt_string(v, "description");
    else if (k == "altText")
      l.alt_text = opt_string(v, "altText");
    else if (k == "albumId")
      l.album_id = opt_string(v, "albumId");
    else if (k == "createdAt")
      l.created_at_ms = timestamp(v, "createdAt");
    else if (k == "updatedAt") {
      if (!v.is_null()) l.updated_at_ms = timestamp(v, "updatedAt");
    } else if (k == "tags") {
      if (v.is_null()) continue;
      if (!v.is_array())
        throw Error::validation("tags", "tags must be an array of strings or null");
      for (const auto& t : v.as_array()) {
        if (!t.is_string()) throw Error::validation("tags", "tags must be an array of strings");
        l.tags.emplace_back(t.as_string());
      }
    }
  }
  return l;
}

}  // namespace

http::Response HttpApp::import_record(http::Request& req) {
  const auto& caller = HttpApp::caller(req);  // admitted by check_may_import
  auto [rec, outcome] = d_.images.import_legacy(caller, parse_legacy(req.body));
  auto res = json_response(outcome == domain::ImportOutcome::Created ? 201 : 200,
                           render_image(rec, s_.cdn_base_url, variant_settings()));
  res.set("Location", "/images/" + rec.id);
  res.set("X-Import-Result", domain::outcome_name(outcome));
  res.log_fields.emplace_back("userId", rec.user_id);
  res.log_fields.emplace_back("imageId", rec.id);
  res.log_fields.emplace_back("operation", std::string("import_") + domain::outcome_name(outcome));
  return res;
}

}  // namespace isvc::api
