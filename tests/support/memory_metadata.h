// An in-memory MetadataBackend for unit tests of the use cases: every port with the semantics of
// the real adapters (paging by (uploaded_at, id) after a position, album/tag filters, states,
// conditional writes reported as values, one owner per object key, import outcomes, claims and
// leases), so that a test of paging or erasure exercises a store that pages. It runs the same
// conformance suite as the SQLite and DynamoDB adapters (tests/conformance/metadata_store_test),
// which is what keeps it faithful. Thread-safe; faults can be injected.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "domain/ports/metadata_backend.h"

namespace isvc::testing {

class MemoryMetadata final : public domain::MetadataBackend {
 public:
  // Faults: the next writes of this kind throw StorageFailed.
  bool fail_insert = false;

  // The records by id (tests may read them; take no lock while the fixture is single-threaded).
  std::map<std::string, domain::ImageRecord> rows;
  std::map<std::string, domain::UploadRecord> uploads;
  std::map<std::string, domain::IdempotencyRecord> idempotency;
  struct OutboxRow {
    domain::OutboxEvent event;
    std::string lease_owner;
    int64_t lease_until_ms = 0;
    bool parked = false;
    std::string reason;
  };
  std::map<std::pair<std::string, std::string>, OutboxRow> outbox;  // (target, id)

  using domain::ImageRepository::insert;
  using domain::ImageRepository::mark_deleting;
  using domain::ImageRepository::update;
  domain::WriteResult insert(const domain::ImageRecord& rec, const domain::Events& events) override;
  std::optional<domain::ImageRecord> get(const std::string& id) override;
  domain::WriteResult update(const domain::ImageRecord& rec, int64_t expected_version,
                             const domain::Events& events) override;
  std::optional<domain::ImageRecord> mark_deleting(const std::string& id,
                                                   const domain::Events& events) override;
  bool remove(const std::string& id) override;
  bool note_variant(const std::string& id, const std::string& key) override;
  domain::ListPage list(const domain::ListQuery& q) override;
  int64_t count(const domain::ListQuery& q) override;

  domain::StoreStats stats(int64_t since_ms) override;
  void scan(const std::function<bool(const domain::ImageRecord&)>& visit) override;
  // Counts are computed from the records, so nothing can drift.
  int64_t check_counters(bool) override { return 0; }
  std::vector<domain::ImportOutcome> import_batch(
      const std::vector<domain::ImageRecord>& records) override;

  void put_upload(const domain::UploadRecord& u) override;
  std::optional<domain::UploadRecord> get_upload(const std::string& id, int64_t now_ms) override;
  void remove_upload(const std::string& id) override;
  int64_t remove_expired_uploads(int64_t now_ms) override;
  bool claim_upload(const std::string& id, int64_t now_ms, int64_t lease_until_ms) override;
  void release_upload(const std::string& id) override;

  std::optional<domain::IdempotencyRecord> claim_idempotency(
      const domain::IdempotencyRecord& pending, int64_t now_ms) override;
  void complete_idempotency(const std::string& key, const std::string& image_id) override;
  void release_idempotency(const std::string& key) override;
  int64_t remove_expired_idempotency(int64_t now_ms) override;
  void append_events(const std::vector<domain::OutboxEvent>& events) override;
  std::vector<domain::OutboxEvent> claim_events(const std::string& target, const std::string& owner,
                                                int64_t now_ms, int64_t lease_until_ms,
                                                int limit) override;
  bool ack_event(const domain::OutboxEvent& e, const std::string& owner) override;
  bool retry_event(const domain::OutboxEvent& e, const std::string& owner,
                   int64_t next_attempt_ms) override;
  bool park_event(const domain::OutboxEvent& e, const std::string& owner,
                  const std::string& reason) override;
  int64_t pending_events(const std::string& target) override;
  int64_t parked_events(const std::string& target) override;

  std::string name() const override { return "memory"; }
  bool healthy() override { return true; }

 private:
  // The field of the first key of `r` another user's image uses, or nullptr.
  const char* conflicting_key(const domain::ImageRecord& r) const;
  bool matches(const domain::ImageRecord& r, const domain::ListQuery& q) const;
  void record(const domain::Events& events);
  OutboxRow* leased(const std::string& target, const std::string& id, const std::string& owner);

  std::recursive_mutex mu_;
  std::map<std::string, int64_t> upload_claims_;  // id → lease until
};

}  // namespace isvc::testing
