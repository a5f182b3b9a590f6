// Port: the operator's view of the image records, for fsck, verify, the migration and the metrics
// summary: every record, the totals, the counters behind totalCount, and the batch import.
// Adapters: storage/sqlite_metadata_store, storage/dynamodb_metadata_store.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "domain/model/image_record.h"

namespace isvc::domain {

struct StoreStats {
  int64_t total_images = 0;
  int64_t total_bytes = 0;     // processed + thumbnail bytes of active images
  int64_t uploaded_since = 0;  // active images uploaded on or after the UTC day of `since`
};

class ImageMaintenance {
 public:
  virtual ~ImageMaintenance() = default;

  virtual StoreStats stats(int64_t since_ms) = 0;

  // Visits every record (any state), in an order of the adapter's choosing. Return false to stop.
  virtual void scan(const std::function<bool(const ImageRecord&)>& visit) = 0;

  // Recomputes every counter (per user/album/tag, global count, bytes, per-day uploads) from the
  // active records and compares it with the stored one; with `repair`, corrects the stored ones.
  // Returns the number of counter cells that were wrong. Drift can only come from a crash between
  // an image write and its counter update, or a batch import that leaves counters to this.
  virtual int64_t check_counters(bool repair) = 0;

  // Imports each record with the semantics of domain::import_record (absent → created; newer
  // updatedAt → replaced with version + 1; otherwise unchanged; a record being deleted is left
  // alone; an id of another user's image → OwnerConflict, keys another user's image uses →
  // KeyConflict, neither written). SQLite: one transaction; DynamoDB: batch reads and writes,
  // leaving the counters of the records it creates to check_counters(true),
  // which the migration calls after its last batch. This port is not behind the Redis cache:
  // whoever imports tells the cache what changed (cache::RedisMetadataCache::imported).
  virtual std::vector<ImportOutcome> import_batch(const std::vector<ImageRecord>& records) = 0;

  // A bulk load into an empty store may leave index work for later: begin_bulk_load() returns
  // true when it did (SQLite drops the listing indexes, which no import needs; lists stay correct,
  // only slower), and finish_bulk_load() then puts everything back. A store that is not empty, or
  // an adapter with nothing to defer (DynamoDB), returns false. If the process dies in between,
  // opening the store again restores what was deferred, so a killed load loses nothing.
  virtual bool begin_bulk_load() { return false; }
  virtual void finish_bulk_load() {}
};

}  // namespace isvc::domain
