#include "storage/instrumented.h"

#include <chrono>
#include <type_traits>

#include "domain/model/error.h"

namespace isvc::storage {

template <class F>
auto timed_call(obs::ServiceMetrics& m, const char* store, const std::string& backend,
                const char* operation, F&& f) -> decltype(f()) {
  auto started = std::chrono::steady_clock::now();
  auto record = [&] {
    m.store_duration.observe(
        {store, backend, operation},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      record();
    } else {
      auto r = f();
      record();
      return r;
    }
  } catch (const domain::Error& e) {
    record();
    if (e.code() == domain::ErrorCode::Unavailable || e.code() == domain::ErrorCode::StorageFailed)
      m.store_errors.inc({store, backend, operation, domain::code_name(e.code())});
    throw;
  } catch (...) {
    record();
    m.store_errors.inc({store, backend, operation, "exception"});
    throw;
  }
}

domain::WriteResult InstrumentedMetadataStore::insert(const domain::ImageRecord& rec,
                                                      const domain::Events& events) {
  return timed("insert", [&] { return inner_.insert(rec, events); });
}
std::optional<domain::ImageRecord> InstrumentedMetadataStore::get(const std::string& id) {
  return timed("get", [&] { return inner_.get(id); });
}
domain::WriteResult InstrumentedMetadataStore::update(const domain::ImageRecord& rec,
                                                      int64_t expected,
                                                      const domain::Events& events) {
  return timed("update", [&] { return inner_.update(rec, expected, events); });
}
std::optional<domain::ImageRecord> InstrumentedMetadataStore::mark_deleting(
    const std::string& id, const domain::Events& events) {
  return timed("mark_deleting", [&] { return inner_.mark_deleting(id, events); });
}
bool InstrumentedMetadataStore::remove(const std::string& id) {
  return timed("remove", [&] { return inner_.remove(id); });
}
std::optional<domain::ImageRecord> InstrumentedMetadataStore::mark_deleting_seen(
    const domain::ImageRecord& seen, const domain::Events& events) {
  return timed("mark_deleting", [&] { return inner_.mark_deleting_seen(seen, events); });
}
bool InstrumentedMetadataStore::remove_seen(const domain::ImageRecord& seen) {
  return timed("remove", [&] { return inner_.remove_seen(seen); });
}
bool InstrumentedMetadataStore::note_variant(const std::string& id, const std::string& key) {
  return timed("note_variant", [&] { return inner_.note_variant(id, key); });
}
domain::ListPage InstrumentedMetadataStore::list(const domain::ListQuery& q) {
  return timed("list", [&] { return inner_.list(q); });
}

int64_t InstrumentedMetadataStore::count(const domain::ListQuery& q) {
  return timed("count", [&] { return inner_.count(q); });
}

domain::CountedPage InstrumentedMetadataStore::list_counted(const domain::ListQuery& q) {
  return timed("list_counted", [&] { return inner_.list_counted(q); });
}
domain::StoreStats InstrumentedMetadataStore::stats(int64_t since_ms) {
  return timed("stats", [&] { return inner_.stats(since_ms); });
}
void InstrumentedMetadataStore::scan(const std::function<bool(const domain::ImageRecord&)>& v) {
  timed("scan", [&] { inner_.scan(v); });
}
std::vector<domain::ImportOutcome> InstrumentedMetadataStore::import_batch(
    const std::vector<domain::ImageRecord>& records) {
  return timed("import_batch", [&] { return inner_.import_batch(records); });
}
int64_t InstrumentedMetadataStore::check_counters(bool repair) {
  return timed("check_counters", [&] { return inner_.check_counters(repair); });
}
bool InstrumentedMetadataStore::begin_bulk_load() {
  return timed("begin_bulk_load", [&] { return inner_.begin_bulk_load(); });
}
void InstrumentedMetadataStore::finish_bulk_load() {
  timed("finish_bulk_load", [&] { inner_.finish_bulk_load(); });
}
void InstrumentedMetadataStore::put_upload(const domain::UploadRecord& u) {
  timed("put_upload", [&] { inner_.put_upload(u); });
}
std::optional<domain::UploadRecord> InstrumentedMetadataStore::get_upload(const std::string& id,
                                                                          int64_t now_ms) {
  return timed("get_upload", [&] { return inner_.get_upload(id, now_ms); });
}
void InstrumentedMetadataStore::remove_upload(const std::string& id) {
  timed("remove_upload", [&] { inner_.remove_upload(id); });
}
int64_t InstrumentedMetadataStore::remove_expired_uploads(int64_t now_ms) {
  return timed("remove_expired_uploads", [&] { return inner_.remove_expired_uploads(now_ms); });
}

bool InstrumentedMetadataStore::claim_upload(const std::string& id, int64_t now_ms,
                                             int64_t lease_until_ms) {
  return timed("claim_upload", [&] { return inner_.claim_upload(id, now_ms, lease_until_ms); });
}

void InstrumentedMetadataStore::release_upload(const std::string& id) {
  timed("release_upload", [&] { inner_.release_upload(id); });
}
std::optional<domain::IdempotencyRecord> InstrumentedMetadataStore::claim_idempotency(
    const domain::IdempotencyRecord& p, int64_t now_ms) {
  return timed("claim_idempotency", [&] { return inner_.claim_idempotency(p, now_ms); });
}
void InstrumentedMetadataStore::complete_idempotency(const std::string& key,
                                                     const std::string& image_id) {
  timed("complete_idempotency", [&] { inner_.complete_idempotency(key, image_id); });
}
void InstrumentedMetadataStore::release_idempotency(const std::string& key) {
  timed("release_idempotency", [&] { inner_.release_idempotency(key); });
}
int64_t InstrumentedMetadataStore::remove_expired_idempotency(int64_t now_ms) {
  return timed("remove_expired_idempotency",
               [&] { return inner_.remove_expired_idempotency(now_ms); });
}

void InstrumentedObjectStore::put(const std::string& key, std::string_view bytes,
                                  const std::string& content_type) {
  timed("put", [&] { inner_.put(key, bytes, content_type); });
}
std::optional<domain::ObjectInfo> InstrumentedObjectStore::head(const std::string& key) {
  return timed("head", [&] { return inner_.head(key); });
}
std::optional<domain::ObjectData> InstrumentedObjectStore::get(
    const std::string& key, std::optional<domain::ByteRange> range) {
  return timed("get", [&] { return inner_.get(key, range); });
}
std::optional<domain::OpenObject> InstrumentedObjectStore::open(const std::string& key) {
  return timed("get", [&] { return inner_.open(key); });
}
void InstrumentedObjectStore::remove(const std::string& key) {
  timed("remove", [&] { inner_.remove(key); });
}
void InstrumentedObjectStore::remove_all(const std::vector<std::string>& keys) {
  timed("remove_all", [&] { inner_.remove_all(keys); });
}
void InstrumentedObjectStore::list(
    const std::string& prefix,
    const std::function<bool(const std::string& key, const domain::ObjectInfo&)>& visit) {
  timed("list", [&] { inner_.list(prefix, visit); });
}

void InstrumentedMetadataStore::append_events(const std::vector<domain::OutboxEvent>& events) {
  timed("append_events", [&] { inner_.append_events(events); });
}
std::vector<domain::OutboxEvent> InstrumentedMetadataStore::claim_events(const std::string& target,
                                                                         const std::string& owner,
                                                                         int64_t now_ms,
                                                                         int64_t lease_until_ms,
                                                                         int limit) {
  return timed("claim_events",
               [&] { return inner_.claim_events(target, owner, now_ms, lease_until_ms, limit); });
}
bool InstrumentedMetadataStore::ack_event(const domain::OutboxEvent& e, const std::string& owner) {
  return timed("ack_event", [&] { return inner_.ack_event(e, owner); });
}
bool InstrumentedMetadataStore::retry_event(const domain::OutboxEvent& e, const std::string& owner,
                                            int64_t next_attempt_ms) {
  return timed("retry_event", [&] { return inner_.retry_event(e, owner, next_attempt_ms); });
}
bool InstrumentedMetadataStore::park_event(const domain::OutboxEvent& e, const std::string& owner,
                                           const std::string& reason) {
  return timed("park_event", [&] { return inner_.park_event(e, owner, reason); });
}
int64_t InstrumentedMetadataStore::pending_events(const std::string& target) {
  return timed("pending_events", [&] { return inner_.pending_events(target); });
}
int64_t InstrumentedMetadataStore::parked_events(const std::string& target) {
  return timed("parked_events", [&] { return inner_.parked_events(target); });
}
int64_t InstrumentedMetadataStore::recover_events() {
  return timed("recover_events", [&] { return inner_.recover_events(); });
}
}  // namespace isvc::storage
