// The hot-object byte cache in front of the object store for GET /files (SPEC §5): an LRU bounded
// by total bytes, safe for many threads. Objects are immutable, so entries never go stale; a
// delete evicts them through the Purger port, like the CDN. The bytes are shared, never copied per
// view: a response refers to them until it has been written.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/ports/object_store.h"
#include "domain/ports/purger.h"

namespace isvc::api {

struct CachedObject {
  domain::ObjectInfo info;
  std::shared_ptr<const std::string> bytes;
};

class FileCache final : public domain::Purger {
 public:
  // Objects larger than max_object_bytes are never cached (a few huge files must not flush it).
  FileCache(int64_t capacity_bytes, int64_t max_object_bytes);

  std::optional<CachedObject> get(const std::string& key);
  // Whether an object of this size would be kept (the admission rule put() applies).
  bool admits(int64_t size) const { return size <= max_object_ && size <= capacity_; }
  void put(const std::string& key, CachedObject obj);
  void erase(const std::string& key);
  void purge(std::vector<std::string> object_keys) override;
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

}  // namespace isvc::api
