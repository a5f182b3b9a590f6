// Port: where image records live. Adapters: storage/sqlite (embedded), storage/dynamodb (later).
// Every adapter passes tests/conformance/metadata_store_test.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/idempotency.h"
#include "domain/model/error.h"
#include "domain/model/image_record.h"
#include "domain/model/upload_record.h"

namespace isvc::storage {

// A position in a user's (or album's) list, ordered by (uploaded_at_ms, id).
struct ListPosition {
  int64_t uploaded_at_ms = 0;
  std::string id;
  bool operator==(const ListPosition&) const = default;
};

struct ListQuery {
  std::string user_id;
  std::optional<std::string> album_id;  // only images in this album (of this user)
  std::optional<std::string> tag;       // only images carrying this tag
  bool ascending = false;               // default newest first
  int limit = 20;
  std::optional<ListPosition> after;  // exclusive: continue strictly after this position
};

struct ListPage {
  std::vector<domain::ImageRecord> items;
  bool has_more = false;
};

struct StoreStats {
  int64_t total_images = 0;
  int64_t total_bytes = 0;     // processed + thumbnail bytes of active images
  int64_t uploaded_since = 0;  // active images uploaded on or after the UTC day of `since`
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // No two users' images share an object: insert, update and import_batch refuse a record whose
  // s3_key or thumbnail_key an image (in any state) of another user uses, or that lies in
  // another user's images/{user}/ folder (domain::user_key_prefix), with
  // domain::Error(ObjectKeyConflict) naming the field (import_batch: ImportOutcome::KeyConflict).
  // Keys in the record owner's own images/{user}/ folder need no check.

  // Inserts a new active record. Throws domain::Error(StorageFailed) when the id already exists.
  virtual void insert(const domain::ImageRecord& rec) = 0;

  // The record with this id in any state, or nullopt.
  virtual std::optional<domain::ImageRecord> get(const std::string& id) = 0;

  // Replaces the record `rec.id` when its stored version equals `expected_version`; the caller
  // sets rec.version (normally expected_version + 1). Throws domain::Error(VersionMismatch) with
  // current_version set when versions differ, domain::Error(ImageNotFound) when it is missing or
  // not active.
  virtual void update(const domain::ImageRecord& rec, int64_t expected_version) = 0;

  // Moves an active record to ImageState::Deleting (hidden from list and counts). Returns the
  // record as it is now (also when it was already Deleting), or nullopt when there is none.
  virtual std::optional<domain::ImageRecord> mark_deleting(const std::string& id) = 0;

  // Removes the record for good. Returns false when it was not there. Idempotent.
  virtual bool remove(const std::string& id) = 0;

  // One page of active records matching the query, in (uploaded_at_ms, id) order.
  virtual ListPage list(const ListQuery& q) = 0;

  // The same for the user's records in ImageState::Deleting (a delete that has not finished):
  // only user_id, ascending, limit and after are honoured. For the erasure, which must finish them.
  virtual ListPage list_deleting(const ListQuery& q) = 0;
  virtual int64_t count_deleting(const std::string& user_id) = 0;

  // Number of active records matching user/album/tag, from maintained counters (no scan).
  virtual int64_t count(const std::string& user_id, const std::optional<std::string>& album_id,
                        const std::optional<std::string>& tag) = 0;

  virtual StoreStats stats(int64_t since_ms) = 0;

  // Visits every record (any state), in an order of the adapter's choosing; for fsck and verify.
  // Return false to stop.
  virtual void scan(const std::function<bool(const domain::ImageRecord&)>& visit) = 0;

  // Imports each record with the semantics of domain::import_record (absent → created; newer
  // updatedAt → replaced with version + 1; otherwise unchanged; a record being deleted is left
  // alone; an id of another user's image → OwnerConflict, keys another user's image uses →
  // KeyConflict, neither written). The default imports one by one; adapters may do a batch at once
  // (SQLite: one transaction; DynamoDB: batch reads and writes). An adapter may leave the counters
  // of the records it creates to the caller, who then calls check_counters(true) after the last
  // batch (DynamoDB does; the migration always settles counters at its end).
  virtual std::vector<domain::ImportOutcome> import_batch(
      const std::vector<domain::ImageRecord>& records);

  // Recomputes every counter (per user/album/tag, global count, bytes, per-day uploads) from the
  // active records and compares it with the stored one; with `repair`, corrects the stored ones.
  // Returns the number of counter cells that were wrong. For fsck: drift can only come from a
  // crash between an image write and its counter update.
  virtual int64_t check_counters(bool repair) = 0;

  // Direct-upload records (temporary; they lapse at expires_at_ms). put_upload inserts or
  // replaces; get_upload treats an expired record as missing (whatever the engine's TTL did);
  // remove_expired_uploads deletes lapsed records and returns how many (the janitor).
  virtual void put_upload(const domain::UploadRecord& u) = 0;
  virtual std::optional<domain::UploadRecord> get_upload(const std::string& id, int64_t now_ms) = 0;
  virtual void remove_upload(const std::string& id) = 0;
  virtual int64_t remove_expired_uploads(int64_t now_ms) = 0;
  // One complete at a time per upload: atomically marks a live, not yet completed upload as being
  // completed until `lease_until_ms`. False when the record is missing, lapsed, completed, or
  // held by a claim whose lease has not run out. put_upload (with the result) or release_upload
  // (the complete failed) ends the claim.
  virtual bool claim_upload(const std::string& id, int64_t now_ms, int64_t lease_until_ms) = 0;
  virtual void release_upload(const std::string& id) = 0;

  // Idempotency keys (domain/idempotency.h). claim_idempotency stores `pending` (no image id)
  // unless a live record holds its key, atomically: returns nullopt when the caller now owns the
  // key, else the record holding it. A record is dead once expired, or when it has no image id
  // and its lease has run out. complete_ records the owner's result; release_ drops a claim
  // without a result (the request failed); remove_expired_ is for the janitor.
  virtual std::optional<domain::IdempotencyRecord> claim_idempotency(
      const domain::IdempotencyRecord& pending, int64_t now_ms) = 0;
  virtual void complete_idempotency(const std::string& key, const std::string& image_id) = 0;
  virtual void release_idempotency(const std::string& key) = 0;
  virtual int64_t remove_expired_idempotency(int64_t now_ms) = 0;

  // Name for health/metrics ("sqlite", "dynamodb") and a cheap liveness probe.
  virtual std::string name() const = 0;
  virtual bool healthy() = 0;
};

}  // namespace isvc::storage

namespace isvc::domain {
// Defined in domain/legacy_import.cpp.
std::pair<ImageRecord, ImportOutcome> import_record(storage::MetadataStore& store,
                                                    const ImageRecord& rec);
}  // namespace isvc::domain

namespace isvc::storage {

inline std::vector<domain::ImportOutcome> MetadataStore::import_batch(
    const std::vector<domain::ImageRecord>& records) {
  std::vector<domain::ImportOutcome> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    try {
      out.push_back(domain::import_record(*this, r).second);
    } catch (const domain::Error& e) {
      if (e.code() == domain::ErrorCode::OwnerConflict)
        out.push_back(domain::ImportOutcome::OwnerConflict);
      else if (e.code() == domain::ErrorCode::ObjectKeyConflict)
        out.push_back(domain::ImportOutcome::KeyConflict);
      else if (e.code() == domain::ErrorCode::VersionMismatch)
        out.push_back(domain::ImportOutcome::Unchanged);  // being deleted: not resurrected
      else
        throw;
    }
  }
  return out;
}

}  // namespace isvc::storage
