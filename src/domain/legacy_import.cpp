#include "domain/legacy_import.h"

#include "domain/model/error.h"
#include "domain/model/object_keys.h"
#include "domain/ulid.h"

namespace isvc::domain {

const char* outcome_name(ImportOutcome o) {
  switch (o) {
    case ImportOutcome::Created:
      return "created";
    case ImportOutcome::Updated:
      return "updated";
    case ImportOutcome::OwnerConflict:
      return "owner_conflict";
    case ImportOutcome::KeyConflict:
      return "key_conflict";
    case ImportOutcome::Unchanged:
      break;
  }
  return "unchanged";
}

void validate_import_key(const std::string& field, std::string_view key, const std::string& user_id,
                         const ImportKeyPolicy& policy) {
  auto bad = [&](const std::string& why) { throw Error::validation(field, field + " " + why); };
  if (key.empty()) bad("is required");
  validate_text(field, key, 500);  // UTF-8, no control characters, <= 500 code points
  if (key.size() > 1024) bad("must be at most 1024 bytes");
  if (key.front() == '/') bad("must be a relative key (no leading '/')");
  if (key.find('\\') != std::string_view::npos) bad("must not contain a backslash");
  auto first_slash = key.find('/');
  if (key.substr(0, first_slash).find(':') != std::string_view::npos)
    bad("must be an object key, not a URL (no scheme)");
  for (std::size_t start = 0;;) {
    auto slash = key.find('/', start);
    auto seg = key.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (seg.empty() || seg == "." || seg == "..")
      bad("must not contain empty, '.' or '..' segments");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // The service's own namespaces: temp/ holds direct uploads in flight, images/{user}/ the
  // user's processed images. Importing such a key would let one user's record point at (and a
  // delete remove) objects the service wrote for someone else.
  if (key.rfind("temp/", 0) == 0) bad("must not point into temp/ (direct uploads)");
  if (key.rfind("images/", 0) == 0 && key.rfind(user_key_prefix(user_id), 0) != 0)
    bad("must not point into another user's images/ folder");
  if (policy.allowed_prefixes.empty()) return;
  for (const auto& p : policy.allowed_prefixes) {
    std::string expanded = p;
    for (auto at = expanded.find("{userId}"); at != std::string::npos;
         at = expanded.find("{userId}", at)) {
      auto enc = encode_user_id_for_key(user_id);
      expanded.replace(at, 8, enc);
      at += enc.size();
    }
    if (key.rfind(expanded, 0) == 0) return;
  }
  bad("is outside the allowed import prefixes (IMPORT_KEY_PREFIXES)");
}

namespace {

void check_opt(const char* field, const std::optional<std::string>& v, std::size_t max,
               bool multiline = false) {
  if (v) validate_text(field, *v, max, multiline);
}

std::optional<std::string> stripped(const std::optional<std::string>& v) {
  if (!v) return v;
  return strip_invisible(*v);
}

std::string format_of(const std::string& mime) {
  if (mime == "image/jpeg" || mime == "image/jpg") return "jpeg";
  if (mime.rfind("image/", 0) == 0) return mime.substr(6);
  return "unknown";
}

}  // namespace

ImageRecord map_legacy(const LegacyRecord& raw, const std::string& bucket,
                       const FieldLimits& limits, const ImportKeyPolicy& keys) {
  LegacyRecord l = raw;
  l.original_filename = strip_invisible(l.original_filename);
  l.title = stripped(l.title);
  l.description = stripped(l.description);
  l.alt_text = stripped(l.alt_text);
  for (auto& t : l.tags) t = strip_invisible(t);
  if (l.thumbnail_key && l.thumbnail_key->empty()) l.thumbnail_key.reset();  // no thumbnail
  if (!is_image_id(l.id)) throw Error::validation("id", "id must be a UUID or a ULID");
  if (l.user_id.empty()) throw Error::validation("userId", "userId is required");
  validate_text("userId", l.user_id, 255);
  validate_import_key("s3Key", l.s3_key, l.user_id, keys);
  if (l.thumbnail_key) validate_import_key("thumbnailKey", *l.thumbnail_key, l.user_id, keys);
  if (l.original_filename.empty())
    throw Error::validation("originalFilename", "originalFilename is required");
  validate_text("originalFilename", l.original_filename, limits.filename);
  if (l.mime_type.rfind("image/", 0) != 0 || l.mime_type.size() > 50)
    throw Error::validation("mimeType", "mimeType must be an image/* type of at most 50 chars");
  validate_text("mimeType", l.mime_type, 50);
  if (l.file_size < 0) throw Error::validation("fileSize", "fileSize must not be negative");
  for (auto [name, v] : {std::pair{"width", l.width}, std::pair{"height", l.height}})
    if (v && (*v < 1 || *v > 1'000'000))
      throw Error::validation(name, std::string(name) + " must be a positive integer or null");
  check_opt("title", l.title, limits.title);
  check_opt("description", l.description, limits.description, true);
  check_opt("altText", l.alt_text, limits.alt_text);
  if (l.album_id) validate_album_id(*l.album_id, limits);
  if (l.created_at_ms <= 0) throw Error::validation("createdAt", "createdAt is required");
  int64_t updated = l.updated_at_ms.value_or(l.created_at_ms);

  ImageRecord r;
  r.id = l.id;
  r.user_id = l.user_id;
  r.album_id = l.album_id;
  r.original_filename = l.original_filename;
  r.mime_type = l.mime_type;
  r.file_size = l.file_size;
  r.processed_size = l.file_size;  // the stored object is the legacy file itself
  r.thumbnail_size = 0;
  r.width = l.width && l.height ? int(*l.width) : 0;
  r.height = l.width && l.height ? int(*l.height) : 0;
  r.s3_key = l.s3_key;
  r.s3_bucket = bucket;
  r.thumbnail_key = l.thumbnail_key;
  r.processing_status = "completed";
  r.format = format_of(l.mime_type);
  r.quality = 0;
  r.title = l.title;
  r.description = l.description;
  r.alt_text = l.alt_text;
  r.tags = normalize_tags(l.tags, limits);
  r.created_at_ms = l.created_at_ms;
  r.updated_at_ms = updated;
  r.uploaded_at_ms = l.created_at_ms;
  r.version = 1;
  return r;
}

namespace {

Error key_conflict(const std::string& field, const std::string& id) {
  return Error(ErrorCode::ObjectKeyConflict, field + " names an object another user's image uses",
               {{"field", field}, {"id", id}});
}

}  // namespace

std::pair<ImageRecord, ImportOutcome> import_record(ImageRepository& store, const ImageRecord& rec,
                                                    const WebhookEvents* events) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto cur = store.get(rec.id);
    if (cur && cur->user_id != rec.user_id)
      throw Error(ErrorCode::OwnerConflict, "image " + rec.id + " belongs to another user",
                  {{"field", "userId"}, {"id", rec.id}});
    if (!cur) {
      auto w = store.insert(rec, events ? events->image_created(rec) : Events{});
      if (w.ok()) return {rec, ImportOutcome::Created};
      if (w.kind == WriteResult::KeyConflict) throw key_conflict(w.field, rec.id);
      continue;  // inserted concurrently: judge against that one
    }
    if (cur->state != ImageState::Active) {
      Error e(ErrorCode::VersionMismatch, "the image is being deleted");
      e.current_version = cur->version;
      throw e;
    }
    if (rec.updated_at_ms <= cur->updated_at_ms) return {*cur, ImportOutcome::Unchanged};
    ImageRecord next = rec;
    next.version = cur->version + 1;
    keep_placeholders(*cur, next);
    auto w = store.update(next, cur->version, events ? events->image_updated(next) : Events{});
    if (w.ok()) return {next, ImportOutcome::Updated};
    if (w.kind == WriteResult::KeyConflict) throw key_conflict(w.field, rec.id);
    // Changed or deleted meanwhile: judge again.
  }
  throw Error(ErrorCode::Unavailable, "the image kept changing during the import; retry");
}

}  // namespace isvc::domain
