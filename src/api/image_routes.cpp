// Routes of the /images family: parse the request, call one use case, render the result.
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>
#include <set>

#include "api/http_app.h"
#include "api/json_writer.h"
#include "api/render.h"
#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/idempotency.h"
#include "http/multipart.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

namespace {

std::optional<std::string> non_empty(std::string_view v) {
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

// Query parameters decoded once; a repeated parameter is ambiguous and refused.
std::map<std::string, std::string> parse_query_params(const std::string& query) {
  std::map<std::string, std::string> out;
  if (query.empty()) return out;
  if (query.size() > 8192) throw Error::validation("query", "query string too long");
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) throw Error(ErrorCode::BadRequest, "malformed query string");
  for (auto p : *parsed) {
    boost::urls::encoding_opts opt;
    opt.space_as_plus = true;
    std::string key = p.key.decode(opt);
    std::string value = p.has_value ? p.value.decode(opt) : std::string();
    if (!out.emplace(key, value).second)
      throw Error::validation(key, "query parameter '" + key + "' given more than once");
  }
  return out;
}

int parse_limit(const std::string& v, int max) {
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 1 || n > max)
    throw Error::validation("limit",
                            "limit must be an integer between 1 and " + std::to_string(max));
  return n;
}

const std::set<std::string>& read_only_fields() {
  static const std::set<std::string> k = {"id",
                                          "userId",
                                          "originalFilename",
                                          "mimeType",
                                          "fileSize",
                                          "processedSize",
                                          "width",
                                          "height",
                                          "aspectRatio",
                                          "s3Key",
                                          "s3Bucket",
                                          "thumbnailKey",
                                          "imageUrl",
                                          "thumbnailUrl",
                                          "processingStatus",
                                          "processingError",
                                          "format",
                                          "quality",
                                          "createdAt",
                                          "updatedAt",
                                          "uploadedAt"};
  return k;
}

std::optional<std::string> nullable_string(const boost::json::value& v, const char* field) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string())
    throw Error::validation(field, std::string(field) + " must be a string or null");
  return std::string(v.as_string());
}

}  // namespace

http::Response HttpApp::upload(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  // admit() has checked the type and the boundary from the head.
  auto boundary = http::multipart_boundary(req.header("Content-Type").value_or(""));
  if (!boundary) throw Error::validation("file", "multipart/form-data needs a boundary parameter");
  auto parts = http::parse_multipart(req.body, *boundary);

  domain::UploadRequest up;
  const http::FormPart* file = nullptr;
  int files = 0;
  std::vector<std::string> tag_values;
  std::set<std::string> seen;
  for (const auto& part : parts) {
    const std::string& n = part.name;
    if (n == "file") {
      ++files;
      file = &part;
      continue;
    }
    if (n == "tags" || n == "tags[]") {
      tag_values.emplace_back(part.data);
      continue;
    }
    if (n == "title" || n == "description" || n == "altText" || n == "albumId") {
      if (!seen.insert(n).second) throw Error::validation(n, n + " given more than once");
      auto v = non_empty(part.data);
      if (n == "title")
        up.title = v;
      else if (n == "description")
        up.description = v;
      else if (n == "altText")
        up.alt_text = v;
      else
        up.album_id = v;
    }
    // Other form fields are ignored, as browsers and SDKs add their own.
  }
  if (files != 1) {
    throw Error::validation("file", files == 0 ? "exactly one `file` part is required"
                                               : "only one `file` part is allowed");
  }
  up.bytes = file->data;
  up.filename = file->filename.value_or("");
  up.tags = domain::tags_from_form_values(tag_values);
  up.request_id = req.request_id;

  auto res = idempotent(req, caller, domain::upload_fingerprint(up), [&] {
    return std::pair{d_.images.upload(caller, up), true};
  });
  res.log_fields.emplace_back("operation", "upload");
  return res;
}

http::Response HttpApp::idempotent(
    const http::Request& req, const domain::Caller& caller, const std::string& fingerprint,
    const std::function<std::pair<domain::ImageRecord, bool>()>& work) {
  auto key = req.header("Idempotency-Key");
  auto out = d_.idempotent.run(caller.user_id, key, fingerprint, work);
  if (out.replayed) d_.metrics.idempotent_replays.fetch_add(1);
  // Looked up after the write (and on every replay): an earlier copy of the owner's is named
  // however many uploads raced, and the answer stays the same for a replay.
  auto duplicate = d_.images.duplicate_of(out.image);
  auto res = json_response(out.created ? 201 : 200,
                           render_image(out.image, s_.cdn_base_url, variant_settings(), duplicate));
  res.set("Location", "/images/" + out.image.id);
  if (key && !out.created) res.set("Idempotent-Replayed", "true");
  res.log_fields.emplace_back("userId", caller.user_id);
  res.log_fields.emplace_back("imageId", out.image.id);
  return res;
}

http::Response HttpApp::get_image(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  const std::string& id = req.params.at(0);
  auto rec = d_.images.get(caller, id);
  audit_admin(req, caller, rec.user_id, "get", id);
  auto res = json_response(200, render_image(rec, s_.cdn_base_url, variant_settings()));
  res.log_fields.emplace_back("userId", caller.user_id);
  res.log_fields.emplace_back("imageId", id);
  return res;
}

http::Response HttpApp::list_images(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  auto q = parse_query_params(req.query);
  domain::ListRequest lr;
  int max = d_.images.settings().max_page_size;
  lr.limit = std::min(20, max);
  if (auto it = q.find("limit"); it != q.end()) lr.limit = parse_limit(it->second, max);
  if (auto it = q.find("cursor"); it != q.end()) {
    if (it->second.empty()) throw Error(ErrorCode::InvalidCursor, "empty cursor");
    lr.cursor = it->second;
  }
  if (auto it = q.find("albumId"); it != q.end()) lr.album_id = it->second;
  if (auto it = q.find("tag"); it != q.end()) lr.tag = it->second;
  if (auto it = q.find("duplicatesOf"); it != q.end()) lr.duplicates_of = it->second;
  if (auto it = q.find("sortBy"); it != q.end()) {
    if (it->second == "takenAt")
      lr.sort_by = domain::SortBy::TakenAt;
    else if (it->second != "uploadedAt")
      throw Error::validation("sortBy", "sortBy must be uploadedAt or takenAt");
  }
  if (auto it = q.find("sortOrder"); it != q.end()) {
    if (it->second == "asc")
      lr.ascending = true;
    else if (it->second != "desc")
      throw Error::validation("sortOrder", "sortOrder must be asc or desc");
  }
  auto page = d_.images.list(caller, lr);
  auto res = json_response(200, render_list(page, s_.cdn_base_url, variant_settings()));
  res.log_fields.emplace_back("userId", caller.user_id);
  return res;
}

http::Response HttpApp::patch_image(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  const std::string& id = req.params.at(0);
  auto ct = req.header("Content-Type");
  if (!ct || ct->substr(0, 16) != "application/json")
    throw Error(ErrorCode::UnsupportedMediaType, "PATCH needs Content-Type application/json");
  const auto body = parse_json_object(req.body, 16);

  domain::UpdateRequest up;
  bool has_version = false;
  for (const auto& kv : body) {
    std::string k = kv.key();
    const auto& v = kv.value();
    if (k == "version") {
      if (!v.is_int64() && !v.is_uint64())
        throw Error::validation("version", "version must be an integer");
      up.version = v.is_int64() ? v.as_int64() : static_cast<int64_t>(v.as_uint64());
      has_version = true;
    } else if (k == "title") {
      up.title = nullable_string(v, "title");
    } else if (k == "description") {
      up.description = nullable_string(v, "description");
    } else if (k == "altText") {
      up.alt_text = nullable_string(v, "altText");
    } else if (k == "albumId") {
      up.album_id = nullable_string(v, "albumId");
    } else if (k == "tags") {
      std::vector<std::string> tags;
      if (!v.is_null()) {
        if (!v.is_array()) throw Error::validation("tags", "tags must be an array of strings");
        for (const auto& t : v.as_array()) {
          if (!t.is_string()) throw Error::validation("tags", "tags must be an array of strings");
          tags.emplace_back(t.as_string());
        }
      }
      up.tags = std::move(tags);
    } else if (read_only_fields().count(k)) {
      throw Error::validation(k, k + " is read-only");
    } else {
      throw Error::validation(k, "unknown field " + k);
    }
  }
  if (!has_version) throw Error::validation("version", "version is required");
  auto rec = d_.images.update(caller, id, up);
  audit_admin(req, caller, rec.user_id, "update", id);
  auto res = json_response(200, render_image(rec, s_.cdn_base_url, variant_settings()));
  res.log_fields.emplace_back("userId", caller.user_id);
  res.log_fields.emplace_back("imageId", id);
  res.log_fields.emplace_back("operation", "update");
  return res;
}

http::Response HttpApp::delete_image(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  const std::string& id = req.params.at(0);
  auto removed = d_.images.remove(caller, id);
  audit_admin(req, caller, removed.user_id, "delete", id);
  http::Response res;
  res.status = 204;
  res.log_fields.emplace_back("userId", caller.user_id);
  res.log_fields.emplace_back("imageId", id);
  res.log_fields.emplace_back("operation", "delete");
  return res;
}

http::Response HttpApp::erase_user(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  const std::string& encoded_user = req.params.at(0);
  auto user = base::percent_decode(encoded_user);
  if (!user) throw Error::validation("userId", "userId is not valid percent-encoding");
  auto done = d_.images.erase_user(caller, *user, d_.clock.now_ms() + s_.erase_budget_ms);
  audit_admin(req, caller, *user, "erase_user", "");
  JsonWriter w;
  w.begin_object()
      .field("userId", std::string_view(*user))
      .field("deleted", done.deleted)
      .field("remaining", done.remaining)
      .field("complete", done.remaining == 0)
      .end_object();
  // 202: the time budget ran out first; calling again continues.
  auto res = json_response(done.remaining == 0 ? 200 : 202, w.take());
  res.log_fields.emplace_back("userId", caller.user_id);
  res.log_fields.emplace_back("operation", "erase_user");
  res.log_fields.emplace_back("deleted", std::to_string(done.deleted));
  return res;
}

void HttpApp::audit_admin(const http::Request& req, const domain::Caller& caller,
                          const std::string& owner, const char* operation,
                          const std::string& image_id) const {
  if (caller.role != domain::CallerRole::Admin || caller.user_id == owner) return;
  d_.log.warn("admin_override", {{"requestId", req.request_id},
                                 {"adminId", caller.user_id},
                                 {"ownerId", owner},
                                 {"operation", operation},
                                 {"imageId", image_id}});
}

}  // namespace isvc::api
