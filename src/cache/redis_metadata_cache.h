// The Redis metadata cache (SPEC §5) as a MetadataStore decorator shared by all instances:
//   image:{id}  → the record, 1 h, written through on update with a version check, so a stale
//                 reader can never overwrite a newer record; a delete leaves a tombstone;
//   list pages and counts → 5 min, keyed by the user's generation, which every write to that
//                 user's images increments; the page keys sit in a per-user tag set that the write
//                 deletes (no KEYS, ever).
// Keys live under an epoch. An instance that lost a write to Redis (Redis down or slow) bumps
// the epoch as soon as Redis answers again and reads nothing from it until then, so entries it
// failed to invalidate are never served. Any Redis failure falls back to the primary store.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "cache/redis_client.h"
#include "obs/metrics.h"
#include "storage/metadata_store.h"

namespace isvc::cache {

struct RedisCacheSettings {
  int image_ttl_s = 3600;
  int list_ttl_s = 300;
  // Keys are "isvc:{namespace}:…": deployments (or stores) sharing one Redis never collide.
  std::string key_namespace;
};

class RedisMetadataCache final : public storage::MetadataStore {
 public:
  RedisMetadataCache(storage::MetadataStore& inner, RedisClient& redis, obs::ServiceMetrics& m,
                     RedisCacheSettings s = {});

  void insert(const domain::ImageRecord& rec) override;
  std::optional<domain::ImageRecord> get(const std::string& id) override;
  void update(const domain::ImageRecord& rec, int64_t expected_version) override;
  std::optional<domain::ImageRecord> mark_deleting(const std::string& id) override;
  bool remove(const std::string& id) override;
  storage::ListPage list(const storage::ListQuery& q) override;
  int64_t count(const std::string& user_id, const std::optional<std::string>& album_id,
                const std::optional<std::string>& tag) override;
  storage::StoreStats stats(int64_t since_ms) override { return inner_.stats(since_ms); }
  void scan(const std::function<bool(const domain::ImageRecord&)>& visit) override {
    inner_.scan(visit);
  }
  // Images being deleted are never cached (the erasure reads them from the store).
  storage::ListPage list_deleting(const storage::ListQuery& q) override {
    return inner_.list_deleting(q);
  }
  int64_t count_deleting(const std::string& user_id) override {
    return inner_.count_deleting(user_id);
  }
  // The inner store's batch, then the cache follows: the users' lists and counts are dropped,
  // and an updated record is re-read and written through (versioned, so never backwards).
  std::vector<domain::ImportOutcome> import_batch(
      const std::vector<domain::ImageRecord>& records) override;
  int64_t check_counters(bool repair) override {
    auto n = inner_.check_counters(repair);
    if (repair && n > 0) bump_epoch();  // cached counts are stale now
    return n;
  }
  void put_upload(const domain::UploadRecord& u) override { inner_.put_upload(u); }
  std::optional<domain::UploadRecord> get_upload(const std::string& id, int64_t now) override {
    return inner_.get_upload(id, now);
  }
  void remove_upload(const std::string& id) override { inner_.remove_upload(id); }
  int64_t remove_expired_uploads(int64_t now) override {
    return inner_.remove_expired_uploads(now);
  }
  bool claim_upload(const std::string& id, int64_t now, int64_t lease_until) override {
    return inner_.claim_upload(id, now, lease_until);
  }
  void release_upload(const std::string& id) override { inner_.release_upload(id); }
  std::optional<domain::IdempotencyRecord> claim_idempotency(const domain::IdempotencyRecord& p,
                                                             int64_t now) override {
    return inner_.claim_idempotency(p, now);
  }
  void complete_idempotency(const std::string& key, const std::string& image_id) override {
    inner_.complete_idempotency(key, image_id);
  }
  void release_idempotency(const std::string& key) override { inner_.release_idempotency(key); }
  int64_t remove_expired_idempotency(int64_t now) override {
    return inner_.remove_expired_idempotency(now);
  }
  // Called every second in the background: an instance that lost a cache write starts the new
  // epoch as soon as Redis answers, without waiting for its next request.
  void heal() { usable(); }

  std::string name() const override { return inner_.name(); }
  bool healthy() override { return inner_.healthy(); }

 private:
  enum class Script { Get, SetVersioned, ListGet, ListSet, Bump, Forget };
  const std::string& script(Script s) const { return scripts_[int(s)]; }
  bool usable();
  void bump_epoch();
  void put_record(const domain::ImageRecord& rec);
  void tombstone(const std::string& id);
  void forget(const std::string& id);
  void bump_user(const std::string& user_id);
  // Cached text for a list/count key of the user, or the (epoch, generation) to store it under.
  struct Lookup {
    bool hit = false;
    std::string value, epoch, generation;
  };
  std::optional<Lookup> lookup(const std::string& user_id, const std::string& hash);
  void store(const std::string& user_id, const Lookup& at, const std::string& hash,
             const std::string& value);

  storage::MetadataStore& inner_;
  RedisClient& redis_;
  obs::ServiceMetrics& metrics_;
  RedisCacheSettings s_;
  std::atomic<bool> dirty_{false};
  std::string prefix_;
  std::string scripts_[6];
};

}  // namespace isvc::cache
