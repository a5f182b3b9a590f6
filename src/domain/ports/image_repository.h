// Port: where image records live, one record per image id, and what the API reads and writes of
// them. Adapters: storage/sqlite_metadata_store, storage/dynamodb_metadata_store (and
// cache/redis_metadata_cache, a decorator). Every adapter passes
// tests/conformance/metadata_store_test.cpp.
//
// No two users' images share an object: insert and update (and ImageMaintenance::import_batch)
// refuse a record whose s3_key or thumbnail_key an image (in any state) of another user uses, or
// that lies in another user's images/{user}/ folder (domain::user_key_prefix). Keys in the record
// owner's own folder need no check. Expected outcomes (an id that exists, a stale version, a key
// conflict) are values; exceptions are failures (domain::Error StorageFailed / Unavailable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/model/image_record.h"
#include "domain/ports/event_outbox.h"

namespace isvc::domain {

// A position in a user's (or album's) list, ordered by (uploaded_at_ms, id); with
// SortBy::TakenAt, uploaded_at_ms holds the record's taken_sort_key instead.
struct ListPosition {
  int64_t uploaded_at_ms = 0;
  std::string id;
  bool operator==(const ListPosition&) const = default;
};

enum class SortBy { UploadedAt, TakenAt };

struct ListQuery {
  std::string user_id;
  // Active: what clients see (album_id and tag honoured). Deleting: the user's deletes that have
  // not finished, for the erasure that must finish them (only user_id, ascending, limit, after).
  ImageState state = ImageState::Active;
  std::optional<std::string> album_id;  // only images in this album (of this user)
  std::optional<std::string> tag;       // only images carrying this tag
  bool ascending = false;               // default newest first
  SortBy sort_by = SortBy::UploadedAt;  // TakenAt: by (taken_sort_key, id)
  // Only the user's images whose original had this SHA-256 (hex), by (uploaded_at_ms, id);
  // never combined with album_id, tag or SortBy::TakenAt.
  std::optional<std::string> sha256;
  int limit = 20;
  std::optional<ListPosition> after;  // exclusive: continue strictly after this position
};

struct ListPage {
  std::vector<ImageRecord> items;
  bool has_more = false;
};

// A page and count() of the same query without its cursor (GET /images answers both).
struct CountedPage {
  ListPage page;
  int64_t total_count = 0;
};

// What a conditional write did.
struct WriteResult {
  enum Kind {
    Done,
    IdExists,         // insert: the id is taken (in any state)
    NotFound,         // update: no active record with this id
    VersionMismatch,  // update: the stored version is not the expected one
    KeyConflict,      // an object key another user's image uses
  } kind = Done;
  int64_t current_version = 0;  // VersionMismatch
  std::string field;            // KeyConflict: "s3Key" or "thumbnailKey"
  bool ok() const { return kind == Done; }

  static WriteResult id_exists() { return with(IdExists); }
  static WriteResult not_found() { return with(NotFound); }
  static WriteResult version_mismatch(int64_t current) {
    auto r = with(VersionMismatch);
    r.current_version = current;
    return r;
  }
  static WriteResult key_conflict(std::string field) {
    auto r = with(KeyConflict);
    r.field = std::move(field);
    return r;
  }

 private:
  static WriteResult with(Kind k) {
    WriteResult r;
    r.kind = k;
    return r;
  }
};

// The webhook events (Events, ports/event_outbox.h) a write takes are stored with its change,
// atomically, and only when the write is done (not on IdExists, NotFound, …). Empty when webhooks
// are off, which costs nothing.
class ImageRepository {
 public:
  virtual ~ImageRepository() = default;

  // Inserts a new active record.
  virtual WriteResult insert(const ImageRecord& rec, const Events& events) = 0;
  WriteResult insert(const ImageRecord& rec) { return insert(rec, {}); }

  // The record with this id in any state, or nullopt.
  virtual std::optional<ImageRecord> get(const std::string& id) = 0;

  // Replaces the active record `rec.id` when its stored version equals `expected_version`; the
  // caller sets rec.version (normally expected_version + 1).
  virtual WriteResult update(const ImageRecord& rec, int64_t expected_version,
                             const Events& events) = 0;
  WriteResult update(const ImageRecord& rec, int64_t expected_version) {
    return update(rec, expected_version, {});
  }

  // Moves an active record to ImageState::Deleting (hidden from lists and counts). Returns the
  // record as it is now (also when it was already Deleting), or nullopt when there is none.
  // `events` are recorded only by the call that moves the record out of Active.
  virtual std::optional<ImageRecord> mark_deleting(const std::string& id, const Events& events) = 0;
  std::optional<ImageRecord> mark_deleting(const std::string& id) { return mark_deleting(id, {}); }

  // Removes the record for good. Returns false when it was not there. Idempotent.
  virtual bool remove(const std::string& id) = 0;

  // The same two steps from the caller's own read of the record (`seen`: the ownership check's
  // read, then what mark_deleting_seen returned), so that an adapter may write on the condition
  // that the record is still that version in that state instead of reading it again. A record
  // changed since is read again and handled as by the calls above.
  virtual std::optional<ImageRecord> mark_deleting_seen(const ImageRecord& seen,
                                                        const Events& events) {
    return mark_deleting(seen.id, events);
  }
  virtual bool remove_seen(const ImageRecord& seen) { return remove(seen.id); }

  // Before a variant object is stored: adds `key` to the record's variant_keys (when the store
  // keeps them and the record has them). False when the record is not active (then the variant
  // must not be stored); true otherwise, also by a store that keeps no list.
  virtual bool note_variant(const std::string& id, const std::string& key) {
    (void)key;
    auto r = get(id);
    return r && r->state == ImageState::Active;
  }

  // One page of records matching the query, in (uploaded_at_ms, id) or (taken_sort_key, id)
  // order.
  virtual ListPage list(const ListQuery& q) = 0;

  // Active records of the user matching album/tag, from maintained counters (no scan); with
  // state Deleting, the user's unfinished deletes (a bounded query, there are few).
  virtual int64_t count(const ListQuery& q) = 0;

  // list(q) and count(q without its cursor) at once: a store that can reads both from one
  // snapshot in one round trip (SQLite: one read transaction); the others ask twice.
  virtual CountedPage list_counted(const ListQuery& q) {
    CountedPage out{list(q), 0};
    ListQuery all = q;
    all.after.reset();
    out.total_count = count(all);
    return out;
  }
};

}  // namespace isvc::domain
