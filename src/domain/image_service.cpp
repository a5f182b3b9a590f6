#include "domain/image_service.h"

#include "domain/exif_bounds.h"

#include "base/crypto.h"
#include "base/encoding.h"

#include <chrono>
#include <future>

#include "domain/model/object_keys.h"
#include "domain/variants.h"
#include "obs/log_context.h"

namespace isvc::domain {

namespace {

const char* mime_for(domain::ImageFormat f) {
  switch (f) {
    case domain::ImageFormat::Jpeg:
      return "image/jpeg";
    case domain::ImageFormat::Png:
      return "image/png";
    case domain::ImageFormat::Webp:
      return "image/webp";
    case domain::ImageFormat::Heic:
      return "image/heic";
    case domain::ImageFormat::Avif:
      return "image/avif";
    case domain::ImageFormat::Unknown:
      break;
  }
  return "application/octet-stream";
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

void validate_optional_text(const std::string& field, const std::optional<std::string>& v,
                            std::size_t max, bool multiline = false) {
  if (v) validate_text(field, *v, max, multiline);
}

// Display text as it is stored: without invisible format characters (validation.h).
std::optional<std::string> display(const std::optional<std::string>& v) {
  if (!v) return v;
  return strip_invisible(*v);
}

std::optional<std::optional<std::string>> display(
    const std::optional<std::optional<std::string>>& v) {
  if (!v || !*v) return v;
  return std::optional<std::string>(strip_invisible(**v));
}

std::vector<std::string> display_tags(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  out.reserve(tags.size());
  for (const auto& t : tags) out.push_back(strip_invisible(t));
  return out;
}

}  // namespace

ImageRecord ImageService::upload(const Caller& caller, const UploadRequest& raw) {
  obs::LogContext log_context(raw.request_id);  // names this upload in the adapters' messages
  auto started = std::chrono::steady_clock::now();
  try {
    UploadRequest req = raw;
    req.title = display(raw.title);
    req.description = display(raw.description);
    req.alt_text = display(raw.alt_text);
    req.tags = display_tags(raw.tags);
    // Cheapest checks first (SPEC §2): size, type, header dimensions, text fields; then decode.
    if (static_cast<int64_t>(req.bytes.size()) > s_.max_file_size) {
      throw Error(ErrorCode::FileTooLarge,
                  "file exceeds the maximum size of " + std::to_string(s_.max_file_size) + " bytes",
                  {{"field", "file"}, {"maxBytes", std::to_string(s_.max_file_size)}});
    }
    d_.processor.probe(req.bytes);
    validate_optional_text("title", req.title, s_.fields.title);
    validate_optional_text("description", req.description, s_.fields.description, true);
    validate_optional_text("altText", req.alt_text, s_.fields.alt_text);
    if (req.album_id) validate_album_id(*req.album_id, s_.fields);
    auto tags = normalize_tags(req.tags, s_.fields);

    auto proc_started = std::chrono::steady_clock::now();
    domain::ProcessedImage out = process(req);
    d_.metrics.processing_latency.record(elapsed_ms(proc_started));
    d_.metrics.processing_seconds.observe({}, elapsed_ms(proc_started) / 1000.0);

    ImageRecord rec;
    rec.id = d_.ids.next();
    rec.user_id = caller.user_id;
    rec.variant_keys.emplace();  // none yet; a store that keeps the list starts it here
    rec.album_id = req.album_id;
    rec.original_filename = sanitize_filename(req.filename, s_.fields);
    rec.mime_type = mime_for(out.probe.format);
    rec.file_size = static_cast<int64_t>(req.bytes.size());
    rec.processed_size = static_cast<int64_t>(out.main_webp.size());
    rec.thumbnail_size = static_cast<int64_t>(out.thumb_webp.size());
    rec.width = out.probe.width;
    rec.height = out.probe.height;
    rec.s3_key = main_object_key(caller.user_id, rec.id);
    rec.thumbnail_key = thumbnail_object_key(caller.user_id, rec.id);
    rec.s3_bucket = d_.objects.bucket();
    rec.title = req.title;
    rec.description = req.description;
    rec.alt_text = req.alt_text;
    rec.tags = std::move(tags);
    rec.created_at_ms = rec.updated_at_ms = rec.uploaded_at_ms = d_.clock.now_ms();
    if (!out.placeholders.thumbhash.empty())
      rec.thumbhash = base::base64_encode(out.placeholders.thumbhash);
    rec.dominant_color = out.placeholders.dominant_color;
    rec.exif = bound_exif(out.exif, s_.exif_keep_gps);
    rec.sha256 = base::hex_encode(base::sha256(req.bytes));

    // Objects first (in parallel), then metadata: a crash in between leaves only orphans, which
    // fsck removes, never metadata pointing at missing bytes.
    auto thumb = std::async(std::launch::async, [&] {
      d_.objects.put(*rec.thumbnail_key, out.thumb_webp, "image/webp");
    });
    std::exception_ptr main_error;
    try {
      d_.objects.put(rec.s3_key, out.main_webp, "image/webp");
    } catch (...) {
      main_error = std::current_exception();
    }
    try {
      thumb.get();
    } catch (...) {
      if (!main_error) main_error = std::current_exception();
    }
    if (main_error) {
      delete_objects(rec);
      std::rethrow_exception(main_error);
    }
    try {
      // A new ULID in the owner's own folder can neither exist nor conflict: either is a fault.
      Events events;
      if (webhooks()) events = d_.events->image_created(rec);
      if (auto w = d_.images.insert(rec, events); !w.ok())
        throw Error(ErrorCode::StorageFailed, "the new image could not be stored");
    } catch (...) {
      try {
        delete_objects(rec);
      } catch (...) {
        // The orphans stay for fsck; the original failure is what the client must see.
      }
      throw;
    }
    recorded();
    d_.metrics.uploads_ok.fetch_add(1);
    d_.metrics.upload_latency.record(elapsed_ms(started));
    return rec;
  } catch (...) {
    d_.metrics.uploads_failed.fetch_add(1);
    throw;
  }
}

domain::ProcessedImage ImageService::process(const UploadRequest& req) {
  try {
    return d_.cpu.run([&] { return d_.processor.process(req.bytes, {req.request_id}); });
  } catch (const base::PoolFull&) {
    // About half a second per upload per thread: worth a retry soon.
    Error e(ErrorCode::Unavailable, "image processing is at capacity; retry shortly");
    e.retry_after_s = 2;
    throw e;
  }
}

ImageRecord ImageService::load_visible(const std::string& id) {
  if (!is_image_id(id)) {
    throw Error(ErrorCode::InvalidImageId, "image id must be a ULID or a UUID", {{"field", "id"}});
  }
  auto rec = d_.images.get(id);
  if (!rec || rec->state != ImageState::Active) {
    throw Error(ErrorCode::ImageNotFound, "image not found", {{"id", id}});
  }
  return *rec;
}

void ImageService::check_owner(const Caller& caller, const ImageRecord& rec, bool write) const {
  if (caller.role == CallerRole::Admin) return;
  if (caller.role == CallerRole::Service && !write) return;
  if (caller.role != CallerRole::Service && rec.user_id == caller.user_id) return;
  throw Error(ErrorCode::NotAuthorized, "you do not have access to this image");
}

ImageRecord ImageService::get(const Caller& caller, const std::string& id) {
  auto rec = load_visible(id);
  check_owner(caller, rec, false);
  return rec;
}

ListResult ImageService::list(const Caller& caller, const ListRequest& req) {
  if (req.limit < 1 || req.limit > s_.max_page_size) {
    throw Error::validation("limit",
                            "limit must be between 1 and " + std::to_string(s_.max_page_size));
  }
  if (req.album_id) validate_album_id(*req.album_id, s_.fields);
  std::optional<std::string> tag = display(req.tag);  // as tags are stored
  if (tag) {
    validate_text("tag", *tag, s_.fields.tag_length);
    if (tag->empty()) throw Error::validation("tag", "tag must not be empty");
  }
  if (req.duplicates_of) return list_duplicates(caller, req);
  CursorScope scope{caller.user_id, req.album_id, tag, req.ascending, req.sort_by, std::nullopt};
  domain::ListQuery q;
  q.user_id = caller.user_id;
  q.album_id = req.album_id;
  q.tag = tag;
  q.ascending = req.ascending;
  q.sort_by = req.sort_by;
  q.limit = req.limit;
  if (req.cursor) q.after = d_.cursors.decode(*req.cursor, scope);

  auto [page, total_count] = d_.images.list_counted(q);
  ListResult out;
  out.limit = req.limit;
  out.has_more = page.has_more;
  if (page.has_more && !page.items.empty()) {
    const auto& last = page.items.back();
    int64_t key = req.sort_by == SortBy::TakenAt ? taken_sort_key(last) : last.uploaded_at_ms;
    out.next_cursor = d_.cursors.encode({key, last.id}, scope);
  }
  out.images = std::move(page.items);
  out.total_count = total_count;
  return out;
}

ImageRecord ImageService::update(const Caller& caller, const std::string& id,
                                 const UpdateRequest& raw) {
  UpdateRequest req = raw;
  req.title = display(raw.title);
  req.description = display(raw.description);
  req.alt_text = display(raw.alt_text);
  if (raw.tags) req.tags = display_tags(*raw.tags);
  if (req.title && *req.title) validate_text("title", **req.title, s_.fields.title);
  if (req.description && *req.description)
    validate_text("description", **req.description, s_.fields.description, true);
  if (req.alt_text && *req.alt_text) validate_text("altText", **req.alt_text, s_.fields.alt_text);
  if (req.album_id && *req.album_id) validate_album_id(**req.album_id, s_.fields);
  std::optional<std::vector<std::string>> tags;
  if (req.tags) tags = normalize_tags(*req.tags, s_.fields);

  auto rec = load_visible(id);
  check_owner(caller, rec, true);
  if (rec.version != req.version) {
    Error e(ErrorCode::VersionMismatch, "the image was changed by someone else; reload it",
            {{"expectedVersion", std::to_string(req.version)}});
    e.current_version = rec.version;
    throw e;
  }
  if (req.title) rec.title = *req.title;
  if (req.description) rec.description = *req.description;
  if (req.alt_text) rec.alt_text = *req.alt_text;
  if (tags) rec.tags = std::move(*tags);
  if (req.album_id) rec.album_id = *req.album_id;
  rec.updated_at_ms = std::max(d_.clock.now_ms(), rec.updated_at_ms);
  rec.version = req.version + 1;
  Events events;
  if (webhooks()) events = d_.events->image_updated(rec);
  auto w = d_.images.update(rec, req.version, events);
  if (w.kind == WriteResult::VersionMismatch) {
    Error e(ErrorCode::VersionMismatch, "the image was changed by someone else; reload it",
            {{"expectedVersion", std::to_string(req.version)}});
    e.current_version = w.current_version;
    throw e;
  }
  if (w.kind == WriteResult::NotFound)
    throw Error(ErrorCode::ImageNotFound, "image not found", {{"id", id}});
  if (!w.ok()) throw Error(ErrorCode::StorageFailed, "the image could not be updated");
  recorded();
  return rec;
}

void check_may_import(const Caller& caller) {
  if (caller.role != CallerRole::Service)
    throw Error(ErrorCode::NotAuthorized, "importing records needs the service role");
}

std::pair<ImageRecord, ImportOutcome> ImageService::import_legacy(const Caller& caller,
                                                                  const LegacyRecord& legacy) {
  check_may_import(caller);
  auto out =
      import_record(d_.images, map_legacy(legacy, d_.objects.bucket(), s_.fields, s_.import_keys),
                    webhooks() ? d_.events : nullptr);
  if (out.second != ImportOutcome::Unchanged) recorded();
  return out;
}

std::vector<std::string> ImageService::delete_objects(const ImageRecord& rec) {
  return remove_image_objects(d_.objects, rec);
}

ImageRecord ImageService::remove(const Caller& caller, const std::string& id) {
  if (!is_image_id(id)) {
    throw Error(ErrorCode::InvalidImageId, "image id must be a ULID or a UUID", {{"field", "id"}});
  }
  auto rec = d_.images.get(id);
  if (!rec) throw Error(ErrorCode::ImageNotFound, "image not found", {{"id", id}});
  check_owner(caller, *rec, true);
  // What the store holds now, as far as this call knows: each step below writes on the
  // condition that the record is still this (no second read when nothing changed meanwhile).
  ImageRecord seen = *rec;
  // Hide first, so no client ever sees metadata whose bytes are going away; a failure below
  // leaves the record in Deleting, and the next DELETE finishes the job.
  if (rec->state == ImageState::Active) {
    // image.deleted is recorded by the call that hides the record (the delete clients see),
    // even when removing the files fails and a later DELETE finishes the job.
    Events events;
    if (webhooks()) events = d_.events->image_deleted(*rec);
    if (auto now = d_.images.mark_deleting_seen(seen, events)) seen = *now;
    recorded();
  }
  std::vector<std::string> removed;
  try {
    removed = delete_objects(seen);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::Unavailable) throw;
    throw Error(ErrorCode::S3DeleteFailed, "deleting the stored files failed; retry the delete");
  } catch (const std::exception&) {
    throw Error(ErrorCode::S3DeleteFailed, "deleting the stored files failed; retry the delete");
  }
  d_.images.remove_seen(seen);
  if (d_.purger) d_.purger->purge(std::move(removed));
  return *rec;
}

ImageService::Erased ImageService::erase_user(const Caller& caller, const std::string& user_id,
                                              int64_t deadline_ms) {
  if (user_id.empty() || user_id.size() > 256)
    throw Error::validation("userId", "userId must be 1 to 256 characters");
  bool allowed = caller.role == CallerRole::Admin ||
                 (caller.role == CallerRole::User && caller.user_id == user_id);
  if (!allowed) throw Error(ErrorCode::NotAuthorized, "you may only erase your own images");
  Erased out;
  auto erase_one = [&](const ImageRecord& rec) {
    try {
      remove(caller, rec.id);
      ++out.deleted;
    } catch (const Error& e) {
      // Gone meanwhile is fine. Files that would not go: the record stays in Deleting, is
      // counted as remaining, and the next call tries again; the others go on meanwhile.
      if (e.code() != ErrorCode::ImageNotFound && e.code() != ErrorCode::S3DeleteFailed) throw;
    }
  };
  auto time_left = [&] { return d_.clock.now_ms() < deadline_ms; };
  // Active images first (each one that fails half-way moves to Deleting), then every record of
  // the user stuck in Deleting, each at most once per call (walked with a position).
  domain::ListQuery q;
  q.user_id = user_id;
  q.ascending = true;
  q.limit = 100;
  for (bool more = true; more && time_left();) {
    auto page = d_.images.list(q);
    more = page.has_more;
    if (page.items.empty()) break;
    for (const auto& rec : page.items) {
      erase_one(rec);
      if (!time_left()) break;
    }
  }
  q.state = ImageState::Deleting;
  for (bool more = true; more && time_left();) {
    auto page = d_.images.list(q);
    more = page.has_more;
    if (page.items.empty()) break;
    for (const auto& rec : page.items) {
      erase_one(rec);
      if (!time_left()) break;
    }
    q.after = domain::ListPosition{page.items.back().uploaded_at_ms, page.items.back().id};
  }
  ListQuery active, deleting;
  active.user_id = deleting.user_id = user_id;
  deleting.state = ImageState::Deleting;
  out.remaining = d_.images.count(active) + d_.images.count(deleting);
  // Every call that leaves nothing records user.erased, before the answer: a caller that saw
  // remaining 0 knows the event is stored; a repeated call repeats the event (with a new id).
  if (out.remaining == 0 && webhooks() && d_.outbox) {
    d_.outbox->append_events(d_.events->user_erased(user_id));
    recorded();
  }
  return out;
}

// What makes two uploads "the same request" (SPEC §12): the file's bytes (by hash), its name and
// the fields after normalisation, whatever the multipart framing.
std::string upload_fingerprint(const UploadRequest& up) {
  std::string m = "POST /images\n";
  m += base::hex_encode(base::sha256(up.bytes));
  auto add = [&](const char* name, const std::optional<std::string>& v) {
    m += '\n';
    m += name;
    if (v) m += "=" + std::to_string(v->size()) + ":" + *v;
  };
  add("filename", up.filename);
  add("title", up.title);
  add("description", up.description);
  add("altText", up.alt_text);
  add("albumId", up.album_id);
  for (const auto& t : up.tags) add("tag", t);
  return base::hex_encode(base::sha256(m));
}

}  // namespace isvc::domain
