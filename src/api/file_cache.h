// The hot-object byte cache in front of the object store for GET /files (SPEC §5): an LRU bounded
// by total bytes, safe for many threads. Objects are immutable, so entries never go stale; a
// delete evicts explicitly.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "storage/object_store.h"

namespace isvc::cache {

struct CachedObject {
  storage::ObjectInfo info;
  std::shared_ptr<const std::string> bytes;
};

class ObjectCache {
 public:
  // Objects larger than max_object_bytes are never cached (a few huge files must not flush it).
  ObjectCache(int64_t capacity_bytes, int64_t max_object_bytes);

  std::optional<CachedObject> get(const std::string& key);
  void put(const std::string& key, CachedObject obj);
  void erase(const std::string& key);
  int64_t size_bytes() const;
  std::size_t entries() const;

 private:
  struct Entry {
    std::string key;
    CachedObject obj;
  };
  void evict_locked();

  int64_t capacity_;
  int64_t max_object_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t bytes_ = 0;
};

}  // namespace isvc::cache
