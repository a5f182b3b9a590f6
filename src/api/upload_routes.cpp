// Direct-to-storage uploads: POST /images/uploads, POST /images/uploads/{id}/complete, and (in
// embedded mode) the service's own signed upload URL, PUT /uploads/{id}.
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include "api/http_app.h"
#include "api/json_writer.h"
#include "api/render.h"
#include "base/crypto.h"
#include "base/encoding.h"
#include "base/time_format.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

namespace {

std::optional<std::string> text_or_null(const boost::json::value& v, const std::string& field) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) throw Error::validation(field, field + " must be a string or null");
  if (v.as_string().empty()) return std::nullopt;
  return std::string(v.as_string());
}

domain::StartUploadRequest parse_start(const std::string& body_text) {
  const auto body = parse_json_object(body_text, 8);
  domain::StartUploadRequest r;
  bool has_length = false;
  for (const auto& kv : body) {
    std::string k = kv.key();
    const auto& v = kv.value();
    if (k == "filename" || k == "contentType") {
      if (!v.is_string()) throw Error::validation(k, k + " must be a string");
      (k == "filename" ? r.filename : r.content_type) = std::string(v.as_string());
    } else if (k == "contentLength") {
      if (!v.is_int64() && !v.is_uint64())
        throw Error::validation(k, "contentLength must be an integer");
      r.content_length = v.is_int64() ? v.as_int64() : INT64_MAX;
      has_length = true;
    } else if (k == "title") {
      r.title = text_or_null(v, k);
    } else if (k == "description") {
      r.description = text_or_null(v, k);
    } else if (k == "altText") {
      r.alt_text = text_or_null(v, k);
    } else if (k == "albumId") {
      r.album_id = text_or_null(v, k);
    } else if (k == "tags") {
      if (!v.is_array()) throw Error::validation("tags", "tags must be an array of strings");
      for (const auto& t : v.as_array()) {
        if (!t.is_string()) throw Error::validation("tags", "tags must be an array of strings");
        r.tags.emplace_back(t.as_string());
      }
    } else {
      throw Error::validation(k, "unknown field '" + k + "'");
    }
  }
  if (r.filename.empty()) throw Error::validation("filename", "filename is required");
  if (r.content_type.empty()) throw Error::validation("contentType", "contentType is required");
  if (!has_length) throw Error::validation("contentLength", "contentLength is required");
  return r;
}

}  // namespace

http::Response HttpApp::start_upload(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  auto ct = req.header("Content-Type");
  if (!ct || ct->substr(0, 16) != "application/json")
    throw Error(ErrorCode::UnsupportedMediaType,
                "start an upload with Content-Type application/json");
  auto started = d_.uploads.start(caller, parse_start(req.body));
  JsonWriter w;
  w.begin_object();
  w.field("uploadId", std::string_view(started.record.id));
  w.field("uploadUrl", std::string_view(started.url));
  w.field("method", "PUT");
  w.key("headers").begin_object();
  w.field("Content-Type", std::string_view(started.record.content_type));
  w.end_object();
  w.field("expiresAt", std::string_view(base::format_iso8601_ms(started.url_expires_at_ms)));
  w.field("completeUrl", std::string_view("/images/uploads/" + started.record.id + "/complete"));
  w.end_object();
  auto res = json_response(201, w.take());
  res.log_fields.emplace_back("userId", caller.user_id);
  res.log_fields.emplace_back("uploadId", started.record.id);
  res.log_fields.emplace_back("operation", "upload_start");
  return res;
}

http::Response HttpApp::complete_upload(http::Request& req) {
  const auto& caller = HttpApp::caller(req);
  const std::string& upload_id = req.params.at(0);
  auto res = idempotent(req, caller, domain::complete_fingerprint(upload_id),
                        [&] { return d_.uploads.complete(caller, upload_id, req.request_id); });
  res.log_fields.emplace_back("operation", "upload_complete");
  return res;
}

void HttpApp::check_upload_signature(const http::Request& req) const {
  // The signature is the credential (like an S3 presigned URL): no bearer token. It binds the
  // declared length and type, so the head alone decides (check_put), before any body byte.
  domain::SignedPutQuery q;
  if (auto parsed = boost::urls::parse_query(req.query)) {
    for (auto p : *parsed) {
      auto value = base::percent_decode(p.value).value_or("");
      if (p.key == "expires") q.expires = value;
      if (p.key == "length") q.length = value;
      if (p.key == "type") q.type = value;
      if (p.key == "signature") q.signature = value;
    }
  }
  auto declared =
      d_.signed_puts ? d_.signed_puts->verify(req.params.at(0), q, d_.clock.now_s()) : std::nullopt;
  if (!declared) throw Error(ErrorCode::NotAuthorized, "the upload URL is invalid or has expired");
  domain::check_signed_put(*declared, req.header("Content-Length"), req.header("Content-Type"));
}

http::Response HttpApp::receive_upload(http::Request& req) {
  const std::string& upload_id = req.params.at(0);
  auto ct = req.header("Content-Type");
  d_.uploads.receive(upload_id, req.body, ct ? std::string(*ct) : std::string());
  http::Response res;
  res.status = 200;
  res.log_fields.emplace_back("uploadId", upload_id);
  res.log_fields.emplace_back("operation", "upload_receive");
  return res;
}

}  // namespace isvc::api
