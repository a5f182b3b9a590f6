#include "domain/direct_upload.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"
#include "domain/model/object_keys.h"

namespace isvc::domain {

namespace {

bool supported_type(const std::vector<std::string>& types, const std::string& ct) {
  return std::find(types.begin(), types.end(), ct) != types.end();
}

// "contentType must be image/jpeg, image/png or image/webp"
std::string supported_types_message(const std::vector<std::string>& types) {
  std::string out = "contentType must be ";
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += i + 1 == types.size() ? " or " : ", ";
    out += types[i];
  }
  return out;
}

Error too_large(int64_t max) {
  return Error(ErrorCode::FileTooLarge,
               "file exceeds the maximum size of " + std::to_string(max) + " bytes",
               {{"field", "file"}, {"maxBytes", std::to_string(max)}});
}

}  // namespace

StartedUpload DirectUploads::start(const Caller& caller, const StartUploadRequest& raw) {
  StartUploadRequest req = raw;  // display fields as they are stored (validation.h)
  for (auto* f : {&req.title, &req.description, &req.alt_text})
    if (*f) **f = strip_invisible(**f);
  for (auto& t : req.tags) t = strip_invisible(t);
  if (req.filename.empty()) throw Error::validation("filename", "filename is required");
  if (!supported_type(s_.content_types, req.content_type))
    throw Error(ErrorCode::InvalidFileType, supported_types_message(s_.content_types),
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
  uploads_.put_upload(u);

  StartedUpload out;
  int64_t expires_s = u.created_at_ms / 1000 + s_.url_ttl_s;
  out.url = signer_.put_url(u, expires_s);
  out.url_expires_at_ms = expires_s * 1000;
  out.record = std::move(u);
  return out;
}

UploadRecord DirectUploads::load(const std::string& upload_id) {
  if (!is_image_id(upload_id))
    throw Error(ErrorCode::NotFound, "upload not found or expired", {{"uploadId", upload_id}});
  auto u = uploads_.get_upload(upload_id, clock_.now_ms());
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

  int64_t now = clock_.now_ms();
  if (!uploads_.claim_upload(u.id, now, now + s_.complete_lease_s * 1000)) {
    // Another complete holds it, or has just finished.
    auto cur = uploads_.get_upload(u.id, clock_.now_ms());
    if (!cur)
      throw Error(ErrorCode::NotFound, "upload not found or expired", {{"uploadId", upload_id}});
    if (cur->completed_image_id) return {images_.get(owner, *cur->completed_image_id), false};
    Error e(ErrorCode::UploadInProgress, "this upload is being completed by another request",
            {{"uploadId", upload_id}});
    e.retry_after_s = 1;
    throw e;
  }
  try {
    return complete_claimed(u, request_id);
  } catch (...) {
    try {
      uploads_.release_upload(u.id);  // a retry may try again at once
    } catch (const std::exception&) {
      // The lease runs out by itself.
    }
    throw;
  }
}

namespace {

// The stored object has another size than the upload declared: refused like the embedded PUT.
Error length_mismatch(int64_t declared, int64_t got) {
  std::map<std::string, std::string> details{{"field", "contentLength"},
                                             {"declaredBytes", std::to_string(declared)},
                                             {"receivedBytes", std::to_string(got)}};
  if (got > declared)
    return Error(ErrorCode::FileTooLarge,
                 "the file is longer than the contentLength the upload was started with",
                 std::move(details));
  return Error(ErrorCode::ValidationFailed,
               "the file is shorter than the contentLength the upload was started with",
               std::move(details));
}

}  // namespace

std::pair<ImageRecord, bool> DirectUploads::complete_claimed(const UploadRecord& claimed,
                                                             const std::string& request_id) {
  UploadRecord u = claimed;
  Caller owner{u.user_id, CallerRole::User};
  const std::string key = temp_object_key(u.id);
  auto info = objects_.head(key);
  if (!info) throw Error::validation("file", "nothing has been uploaded to this upload's URL yet");
  if (info->size > s_.max_file_size) {
    objects_.remove(key);
    throw too_large(s_.max_file_size);
  }
  if (info->size != u.content_length) {
    objects_.remove(key);  // the URL still works: the client can PUT the right bytes again
    throw length_mismatch(u.content_length, info->size);
  }
  auto data = objects_.get(key);
  if (!data) throw Error::validation("file", "nothing has been uploaded to this upload's URL yet");
  if (int64_t(data->bytes.size()) != u.content_length) {  // replaced since the head
    objects_.remove(key);
    throw length_mismatch(u.content_length, int64_t(data->bytes.size()));
  }

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
  // Remember the result (this also ends the claim) so a retried complete answers with the same
  // image.
  u.completed_image_id = rec.id;
  uploads_.put_upload(u);
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
  if (int64_t(bytes.size()) != u.content_length)
    throw length_mismatch(u.content_length, int64_t(bytes.size()));
  if (media_type(content_type) != u.content_type)
    throw Error::validation("contentType",
                            "Content-Type must be " + u.content_type + ", as the upload declared");
  objects_.put(temp_object_key(u.id), bytes, u.content_type);
}

DirectUploads::Swept DirectUploads::sweep() {
  Swept out;
  int64_t now = clock_.now_ms();
  int64_t cutoff = now - s_.record_ttl_s * 1000;
  std::vector<std::string> stale;
  objects_.list("temp/", [&](const std::string& key, const domain::ObjectInfo& info) {
    if (info.last_modified_ms < cutoff) stale.push_back(key);
    return true;
  });
  for (const auto& k : stale) {
    objects_.remove(k);
    ++out.objects;
  }
  out.records = uploads_.remove_expired_uploads(now);
  return out;
}

std::string media_type(std::string_view ct) {
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  std::string out;
  for (char c : ct)
    if (c != ' ' && c != '\t') out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string complete_fingerprint(const std::string& upload_id) {
  return base::hex_encode(base::sha256("POST /images/uploads/" + upload_id + "/complete"));
}

void check_signed_put(const SignedPut& declared, std::optional<std::string_view> content_length,
                      std::optional<std::string_view> content_type) {
  auto got = content_length ? base::parse_count(*content_length) : std::nullopt;
  if (!got)
    throw Error::validation("contentLength", "send the file with Content-Length: " +
                                                 std::to_string(declared.content_length));
  if (*got != declared.content_length) throw length_mismatch(declared.content_length, *got);
  if (!content_type || media_type(*content_type) != declared.content_type)
    throw Error::validation("contentType", "Content-Type must be " + declared.content_type +
                                               ", as the upload declared");
}

}  // namespace isvc::domain
