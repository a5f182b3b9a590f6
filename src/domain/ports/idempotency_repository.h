// Port: idempotency keys (domain/idempotency.h has the rules). Adapters:
// storage/sqlite_metadata_store, storage/dynamodb_metadata_store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/model/idempotency_record.h"

namespace isvc::domain {

class IdempotencyRepository {
 public:
  virtual ~IdempotencyRepository() = default;
  // Stores `pending` (no image id) unless a live record holds its key, atomically: nullopt when
  // the caller now owns the key, else the record holding it. A record is dead once expired, or
  // when it has no image id and its lease has run out.
  virtual std::optional<IdempotencyRecord> claim_idempotency(const IdempotencyRecord& pending,
                                                             int64_t now_ms) = 0;
  // Records the owner's result.
  virtual void complete_idempotency(const std::string& key, const std::string& image_id) = 0;
  // Drops a claim without a result (the request failed).
  virtual void release_idempotency(const std::string& key) = 0;
  // Deletes expired records; returns how many (the janitor).
  virtual int64_t remove_expired_idempotency(int64_t now_ms) = 0;
};

}  // namespace isvc::domain
