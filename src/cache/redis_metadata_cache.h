// The Redis metadata cache (SPEC §5) as an ImageRepository decorator shared by all instances:
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
#include "domain/ports/image_repository.h"
#include "obs/metrics.h"

namespace isvc::cache {

struct RedisCacheSettings {
  int image_ttl_s = 3600;
  int list_ttl_s = 300;
  // Keys are "isvc:{namespace}:…": deployments (or stores) sharing one Redis never collide.
  std::string key_namespace;
};

class RedisMetadataCache final : public domain::ImageRepository {
 public:
  RedisMetadataCache(domain::ImageRepository& inner, RedisClient& redis, obs::ServiceMetrics& m,
                     RedisCacheSettings s = {});

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
  // Straight to the store: the cached record keeps its older variant list, which nothing takes
  // from the cache (a delete uses what the store's mark returns; a PATCH's write is conditional
  // on the store's count and takes the current list along).
  bool note_variant(const std::string& id, const std::string& key) override {
    return inner_.note_variant(id, key);
  }
  // Images being deleted are never cached (the erasure reads them from the store).
  domain::ListPage list(const domain::ListQuery& q) override;
  int64_t count(const domain::ListQuery& q) override;
  // Follows a batch import done on the store behind it (ImageMaintenance::import_batch): the
  // users' lists and counts are dropped, and an updated record is re-read and written through
  // (versioned, so never backwards).
  void imported(const std::vector<domain::ImageRecord>& records,
                const std::vector<domain::ImportOutcome>& outcomes);

  // Everything cached becomes unreachable (a new epoch): after counters were repaired behind the
  // cache's back (fsck --repair, the end of a migration).
  void invalidate_all() { bump_epoch(); }
  // Called every second in the background: an instance that lost a cache write starts the new
  // epoch as soon as Redis answers, without waiting for its next request.
  void heal() { usable(); }

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

  domain::ImageRepository& inner_;
  RedisUse redis_;  // this cache's own circuit and lost-write flag
  obs::ServiceMetrics& metrics_;
  RedisCacheSettings s_;
  std::atomic<bool> dirty_{false};
  std::string prefix_;
  std::string scripts_[6];
};

}  // namespace isvc::cache
