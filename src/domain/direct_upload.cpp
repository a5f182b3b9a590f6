#include "domain/direct_upload.h"

#include <charconv>

#include "domain/encoding.h"
#include "domain/error.h"

namespace isvc::domain {

namespace {

bool supported_type(const std::string& ct) {
  return ct == "image/jpeg" || ct == "image/png" || ct == "image/webp";
}

Error too_large(int64_t max) {
  return Error(ErrorCode::FileTooLarge,
               "file exceeds the maximum size of " + std::to_string(max) + " bytes",
               {{"field", "file"}, {"maxBytes", std::to_string(max)}});
}

}  // namespace

StartedUpload DirectUploads::start(const Caller& caller, const StartUploadRequest& req) {
  if (req.filename.empty()) throw Error::validation("filename", "filename is required");
  if (!supported_type(req.content_type))
    throw Error(ErrorCode::InvalidFileType,
                "contentType must be image/jpeg, image/png or image/webp",
                {{"field", "contentType"}});
  if (req.content_length < 1)
    throw Error::validation("contentLength", "contentLength must be a positive integer");
  if (req.content_length > s_.max_file_size) throw too_large(s_.max_file_size);
  if (req.title) validate_text("title", *req.title, s_.fields.title);
  if (req.description) validate_text("description", *req.description, s_.fields.description, true);
  if (req.alt_text) validate_text("altText", *req.alt_text, s_.fields.alt_text);
  if (req.album_id) validate_album_id(*req.album_id, s_.fields);

  UploadRecord u;
  u.id = ids_.next();
  u.user_id = caller.user_id;
  u.filename = sanitize_filename(req.filename, s_.fields);
  u.content_type = req.content_type;
  u.content_length = req.content_length;
  u.title = req.title;
  u.description = req.description;
  u.alt_text = req.alt_text;
  u.album_id = req.album_id;
  u.tags = normalize_tags(req.tags, s_.fields);
  u.created_at_ms = clock_.now_ms();
  u.expires_at_ms = u.created_at_ms + s_.record_ttl_s * 1000;
  metadata_.put_upload(u);

  StartedUpload out;
  int64_t expires_s = u.created_at_ms / 1000 + s_.url_ttl_s;
  out.url = signer_.put_url(u.id, expires_s);
  out.url_expires_at_ms = expires_s * 1000;
  out.record = std::move(u);
  return out;
}

UploadRecord DirectUploads::load(const std::string& upload_id) {
  if (!is_image_id(upload_id))
    throw Error(ErrorCode::NotFound, "upload not found or expired", {{"uploadId", upload_id}});
  auto u = metadata_.get_upload(upload_id, clock_.now_ms());
  if (!u)
    throw Error(ErrorCode::NotFound, "upload not found or expired", {{"uploadId", upload_id}});
  return *u;
}

std::pair<ImageRecord, bool> DirectUploads::complete(const Caller& caller,
                                                     const std::string& upload_id,
                                                     const std::string& request_id) {
  UploadRecord u = load(upload_id);
  if (u.user_id != caller.user_id && caller.role != CallerRole::Admin)
    throw Error(ErrorCode::NotAuthorized, "this upload belongs to another user");
  Caller owner{u.user_id, CallerRole::User};
  if (u.completed_image_id) return {images_.get(owner, *u.completed_image_id), false};

  const std::string key = temp_object_key(u.id);
  auto info = objects_.head(key);
  if (!info) throw Error::validation("file", "nothing has been uploaded to this upload's URL yet");
  if (info->size > s_.max_file_size) {
    objects_.remove(key);
    throw too_large(s_.max_file_size);
  }
  auto data = objects_.get(key);
  if (!data) throw Error::validation("file", "nothing has been uploaded to this upload's URL yet");

  UploadRequest req;
  req.bytes = data->bytes;
  req.filename = u.filename;
  req.title = u.title;
  req.description = u.description;
  req.alt_text = u.alt_text;
  req.album_id = u.album_id;
  req.tags = u.tags;
  req.request_id = request_id;
  ImageRecord rec = images_.upload(owner, req);
  // Remember the result so a retried complete answers with the same image.
  u.completed_image_id = rec.id;
  metadata_.put_upload(u);
  try {
    objects_.remove(key);
  } catch (const std::exception&) {
    // The temp object lapses with the lifecycle rule / janitor anyway.
  }
  return {rec, true};
}

void DirectUploads::receive(const std::string& upload_id, std::string_view bytes,
                            const std::string& content_type) {
  UploadRecord u = load(upload_id);
  if (u.completed_image_id)
    throw Error(ErrorCode::NotFound, "upload already completed", {{"uploadId", upload_id}});
  if (int64_t(bytes.size()) > s_.max_file_size) throw too_large(s_.max_file_size);
  objects_.put(temp_object_key(u.id), bytes,
               content_type.empty() ? "application/octet-stream" : content_type);
}

DirectUploads::Swept DirectUploads::sweep() {
  Swept out;
  int64_t now = clock_.now_ms();
  int64_t cutoff = now - s_.record_ttl_s * 1000;
  std::vector<std::string> stale;
  objects_.list("temp/", [&](const std::string& key, const storage::ObjectInfo& info) {
    if (info.last_modified_ms < cutoff) stale.push_back(key);
    return true;
  });
  for (const auto& k : stale) {
    objects_.remove(k);
    ++out.objects;
  }
  out.records = metadata_.remove_expired_uploads(now);
  return out;
}

std::string ServiceUploadUrls::signature(const std::string& upload_id,
                                         const std::string& expires) const {
  return hex_encode(hmac_sha256(key_, "PUT /uploads/" + upload_id + " " + expires));
}

std::string ServiceUploadUrls::put_url(const std::string& upload_id, int64_t expires_at_s) {
  auto exp = std::to_string(expires_at_s);
  return base_ + "/uploads/" + upload_id + "?expires=" + exp +
         "&signature=" + signature(upload_id, exp);
}

bool ServiceUploadUrls::verify(const std::string& upload_id, std::string_view expires,
                               std::string_view sig, int64_t now_s) const {
  int64_t exp = 0;
  auto [p, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), exp);
  if (expires.empty() || ec != std::errc() || p != expires.data() + expires.size()) return false;
  if (!constant_time_equal(signature(upload_id, std::string(expires)), sig)) return false;
  return exp >= now_s;
}

}  // namespace isvc::domain
