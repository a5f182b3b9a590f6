// Decorators that time every call into a store and count its failures, per backend and
// operation (isvc_store_call_duration_seconds, isvc_store_errors_total). They sit directly on
// the adapters, under the Redis cache, so they measure the stores themselves.
#pragma once

#include "domain/ports/metadata_backend.h"
#include "domain/ports/object_store.h"
#include "obs/metrics.h"

namespace isvc::storage {

// Runs `f`, recording its duration under (store, backend, operation); a failure (an Unavailable
// or StorageFailed error, or any other exception) is counted under its code and rethrown.
// Expected outcomes such as VersionMismatch or ImageNotFound are not failures.
template <class F>
auto timed_call(obs::ServiceMetrics& m, const char* store, const std::string& backend,
                const char* operation, F&& f) -> decltype(f());

class InstrumentedMetadataStore final : public domain::MetadataBackend {
 public:
  InstrumentedMetadataStore(domain::MetadataBackend& inner, obs::ServiceMetrics& m)
      : inner_(inner), m_(m), backend_(inner.name()) {}

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
  std::optional<domain::ImageRecord> mark_deleting_seen(const domain::ImageRecord& seen,
                                                        const domain::Events& events) override;
  bool remove_seen(const domain::ImageRecord& seen) override;
  bool note_variant(const std::string& id, const std::string& key) override;
  domain::ListPage list(const domain::ListQuery& q) override;
  int64_t count(const domain::ListQuery& q) override;
  domain::CountedPage list_counted(const domain::ListQuery& q) override;
  domain::StoreStats stats(int64_t since_ms) override;
  void scan(const std::function<bool(const domain::ImageRecord&)>& visit) override;
  std::vector<domain::ImportOutcome> import_batch(
      const std::vector<domain::ImageRecord>& records) override;
  int64_t check_counters(bool repair) override;
  bool begin_bulk_load() override;
  void finish_bulk_load() override;
  void put_upload(const domain::UploadRecord& u) override;
  std::optional<domain::UploadRecord> get_upload(const std::string& id, int64_t now_ms) override;
  void remove_upload(const std::string& id) override;
  int64_t remove_expired_uploads(int64_t now_ms) override;
  bool claim_upload(const std::string& id, int64_t now_ms, int64_t lease_until_ms) override;
  void release_upload(const std::string& id) override;
  std::optional<domain::IdempotencyRecord> claim_idempotency(const domain::IdempotencyRecord& p,
                                                             int64_t now_ms) override;
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
  int64_t recover_events() override;
  std::string name() const override { return inner_.name(); }
  bool healthy() override { return inner_.healthy(); }

 private:
  template <class F>
  auto timed(const char* op, F&& f) {
    return timed_call(m_, "metadata", backend_, op, std::forward<F>(f));
  }
  domain::MetadataBackend& inner_;
  obs::ServiceMetrics& m_;
  std::string backend_;
};

class InstrumentedObjectStore final : public domain::ObjectStore {
 public:
  InstrumentedObjectStore(domain::ObjectStore& inner, obs::ServiceMetrics& m)
      : inner_(inner), m_(m), backend_(inner.name()) {}

  void put(const std::string& key, std::string_view bytes,
           const std::string& content_type) override;
  std::optional<domain::ObjectInfo> head(const std::string& key) override;
  std::optional<domain::ObjectData> get(
      const std::string& key, std::optional<domain::ByteRange> range = std::nullopt) override;
  // Timed as "get" (the store's read of the object); the reader's later pieces are not timed.
  std::optional<domain::OpenObject> open(const std::string& key) override;
  void remove(const std::string& key) override;
  void remove_all(const std::vector<std::string>& keys) override;
  void list(
      const std::string& prefix,
      const std::function<bool(const std::string& key, const domain::ObjectInfo&)>& visit) override;
  std::string name() const override { return inner_.name(); }
  std::string bucket() const override { return inner_.bucket(); }
  bool healthy() override { return inner_.healthy(); }

 private:
  template <class F>
  auto timed(const char* op, F&& f) {
    return timed_call(m_, "object", backend_, op, std::forward<F>(f));
  }
  domain::ObjectStore& inner_;
  obs::ServiceMetrics& m_;
  std::string backend_;
};

}  // namespace isvc::storage
