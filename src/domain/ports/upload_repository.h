// Port: started direct uploads (temporary records that lapse at expires_at_ms). Adapters:
// storage/sqlite_metadata_store, storage/dynamodb_metadata_store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/model/upload_record.h"

namespace isvc::domain {

class UploadRepository {
 public:
  virtual ~UploadRepository() = default;
  // Inserts or replaces (and ends a claim).
  virtual void put_upload(const UploadRecord& u) = 0;
  // An expired record counts as missing, whatever the engine's TTL did.
  virtual std::optional<UploadRecord> get_upload(const std::string& id, int64_t now_ms) = 0;
  virtual void remove_upload(const std::string& id) = 0;
  // Deletes lapsed records; returns how many (the janitor).
  virtual int64_t remove_expired_uploads(int64_t now_ms) = 0;
  // One complete at a time per upload: atomically marks a live, not yet completed upload as being
  // completed until `lease_until_ms`. False when the record is missing, lapsed, completed, or
  // held by a claim whose lease has not run out. put_upload (with the result) or release_upload
  // (the complete failed) ends the claim.
  virtual bool claim_upload(const std::string& id, int64_t now_ms, int64_t lease_until_ms) = 0;
  virtual void release_upload(const std::string& id) = 0;
};

}  // namespace isvc::domain
