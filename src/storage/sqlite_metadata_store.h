// The metadata backend on SQLite (embedded mode): WAL with synchronous=NORMAL by default, so every
// acknowledged write survives a process crash (kill -9); `FULL` adds an fsync per commit for power
// loss at about 3x the write latency (SQLITE_SYNCHRONOUS). One writer connection (SQLite allows one
// writer at a time anyway) and a small pool of readers that run concurrently under WAL. Per-scope
// counters kept in the same transactions make count() exact without scanning.
#pragma once

#include <memory>
#include <string>

#include "domain/ports/metadata_backend.h"

namespace isvc::storage {

class SqliteMetadataStore final : public domain::MetadataBackend {
 public:
  explicit SqliteMetadataStore(const std::string& db_path, int readers = 4,
                               const std::string& synchronous = "NORMAL");
  ~SqliteMetadataStore() override;

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
  domain::ListPage list(const domain::ListQuery& q) override;
  int64_t count(const domain::ListQuery& q) override;
  domain::CountedPage list_counted(const domain::ListQuery& q) override;
  domain::StoreStats stats(int64_t since_ms) override;
  void scan(const std::function<bool(const domain::ImageRecord&)>& visit) override;
  int64_t check_counters(bool repair) override;
  std::vector<domain::ImportOutcome> import_batch(
      const std::vector<domain::ImageRecord>& records) override;
  bool begin_bulk_load() override;
  void finish_bulk_load() override;
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
  std::string name() const override { return "sqlite"; }
  bool healthy() override;

  struct Impl;

 private:
  domain::ListPage list_deleting(const domain::ListQuery& q);
  int64_t count_deleting(const std::string& user_id);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isvc::storage
