// The use cases of the service: upload, get, list, update, delete, erase, import. Knows nothing
// about HTTP, SQL or libvips: it talks to the ports (ImageRepository, ObjectStore,
// ImageProcessor, Purger, IdGenerator, Clock).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bounded_pool.h"
#include "domain/cursor_codec.h"
#include "domain/legacy_import.h"
#include "domain/model/error.h"
#include "domain/model/image_record.h"
#include "domain/ports/clock.h"
#include "domain/ports/event_outbox.h"
#include "domain/ports/ids.h"
#include "domain/ports/image_processor.h"
#include "domain/ports/image_repository.h"
#include "domain/ports/object_store.h"
#include "domain/ports/purger.h"
#include "domain/ulid.h"
#include "domain/validation.h"
#include "domain/webhook_events.h"
#include "obs/metrics.h"

namespace isvc::domain {

enum class CallerRole { User, Admin, Service };

struct Caller {
  std::string user_id;
  CallerRole role = CallerRole::User;
};

// The role rule of imports (SPEC §2, §8): only the service role imports records. The API asks it
// from the headers, before the body is read; ImageService::import_legacy applies it again.
// Throws NotAuthorized.
void check_may_import(const Caller& caller);

struct UploadRequest {
  std::string_view bytes;
  std::string filename;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> alt_text;
  std::optional<std::string> album_id;
  std::vector<std::string> tags;  // already normalised by the caller or raw; normalised again
  std::string request_id;         // names the processing in the logs; empty when unknown
};

// What makes two uploads "the same request" for an Idempotency-Key (SPEC §12): the file's bytes
// (by hash), its name and the fields after normalisation, whatever the multipart framing.
std::string upload_fingerprint(const UploadRequest& up);

// Each field: nullopt = not in the request; optional(nullopt) = set to null (removes it).
struct UpdateRequest {
  int64_t version = 0;
  std::optional<std::optional<std::string>> title;
  std::optional<std::optional<std::string>> description;
  std::optional<std::optional<std::string>> alt_text;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::optional<std::string>> album_id;
};

struct ListRequest {
  int limit = 20;
  std::optional<std::string> cursor;
  std::optional<std::string> album_id;
  std::optional<std::string> tag;
  bool ascending = false;
  SortBy sort_by = SortBy::UploadedAt;
  // GET /images?duplicatesOf=: the caller's other active images whose original had the same
  // bytes as this one's, oldest first unless descending; no albumId, tag or sortBy with it.
  std::optional<std::string> duplicates_of = std::nullopt;
};

struct ListResult {
  std::vector<ImageRecord> images;
  int limit = 20;
  bool has_more = false;
  std::optional<std::string> next_cursor;
  int64_t total_count = 0;
};

struct ServiceSettings {
  int64_t max_file_size = 10 * 1024 * 1024;
  int max_page_size = 100;
  FieldLimits fields;
  ImportKeyPolicy import_keys;  // IMPORT_KEY_PREFIXES
  bool exif_keep_gps = false;   // EXIF_KEEP_GPS: keep the original's GPS position (rounded)
};

struct ServiceDeps {
  ImageRepository& images;
  ObjectStore& objects;
  ImageProcessor& processor;
  base::BoundedPool& cpu;
  IdGenerator& ids;
  const Clock& clock;
  const CursorCodec& cursors;
  obs::ServiceMetrics& metrics;
  Purger* purger;  // the caches in front of the bytes (CDN, file cache), or null
  // Webhooks: the events each change records with itself (null or no targets: none), and who to
  // tell that some were recorded (the local delivery worker).
  const WebhookEvents* events = nullptr;
  std::function<void()> events_recorded = nullptr;
  EventOutbox* outbox = nullptr;  // for the events of no image write (user.erased)
};

class ImageService {
 public:
  ImageService(ServiceDeps deps, ServiceSettings settings) : d_(deps), s_(std::move(settings)) {}

  ImageRecord upload(const Caller& caller, const UploadRequest& req);
  ImageRecord get(const Caller& caller, const std::string& id);
  // The caller's earliest other active image (by upload time) whose original had the same bytes
  // as rec's, uploaded before it; nullopt when rec is the first (or has no hash). Only the
  // owner's own images are ever considered.
  std::optional<std::string> duplicate_of(const ImageRecord& rec);
  ListResult list(const Caller& caller, const ListRequest& req);
  ImageRecord update(const Caller& caller, const std::string& id, const UpdateRequest& req);
  // Removes objects and metadata; a delete that failed half-way is finished by the next call.
  // Returns the removed record (callers evict caches by its keys).
  ImageRecord remove(const Caller& caller, const std::string& id);

  // GDPR erasure (SPEC §2 DELETE /users/{userId}/images): deletes the user's images, objects
  // first, like remove(), until they are all gone or `deadline_ms` passes, and finishes the
  // deletes that stopped half-way (records stuck in Deleting). The user themself or an admin.
  // Idempotent and resumable: a later call continues with what is left. `remaining` counts every
  // record of the user that is not gone, active or deleting. `removed` sees each deleted record
  // (callers evict caches by its keys).
  struct Erased {
    int64_t deleted = 0;
    int64_t remaining = 0;
  };
  Erased erase_user(const Caller& caller, const std::string& user_id, int64_t deadline_ms);

  // Dual-write from the legacy API (SPEC §2, §8): service role only; idempotent by id.
  std::pair<ImageRecord, ImportOutcome> import_legacy(const Caller& caller,
                                                      const LegacyRecord& legacy);

  const ServiceSettings& settings() const { return s_; }

 private:
  ImageRecord load_visible(const std::string& id);
  ListResult list_duplicates(const Caller& caller, const ListRequest& req);
  // Decode and encode on the bounded pool; a full pool is 503 with Retry-After 2.
  domain::ProcessedImage process(const UploadRequest& req);
  void check_owner(const Caller& caller, const ImageRecord& rec, bool write) const;
  // Removes the image's objects (variants, main image, thumbnail); returns their keys.
  std::vector<std::string> delete_objects(const ImageRecord& rec);
  bool webhooks() const { return d_.events && d_.events->enabled(); }
  void recorded() const {
    if (webhooks() && d_.events_recorded) d_.events_recorded();
  }

  ServiceDeps d_;
  ServiceSettings s_;
};

}  // namespace isvc::domain
