#include "api/file_cache.h"

namespace isvc::api {

FileCache::FileCache(int64_t capacity_bytes, int64_t max_object_bytes)
    : capacity_(capacity_bytes), max_object_(max_object_bytes) {}

std::optional<CachedObject> FileCache::get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->obj;
}

void FileCache::put(const std::string& key, CachedObject obj) {
  if (!obj.bytes) return;
  auto size = static_cast<int64_t>(obj.bytes->size());
  if (!admits(size)) return;
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= static_cast<int64_t>(it->second->obj.bytes->size());
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, std::move(obj)});
  index_[key] = lru_.begin();
  bytes_ += size;
  evict_locked();
}

void FileCache::erase(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  bytes_ -= static_cast<int64_t>(it->second->obj.bytes->size());
  lru_.erase(it->second);
  index_.erase(it);
}

void FileCache::evict_locked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    auto& last = lru_.back();
    bytes_ -= static_cast<int64_t>(last.obj.bytes->size());
    index_.erase(last.key);
    lru_.pop_back();
  }
}

int64_t FileCache::size_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t FileCache::entries() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

void FileCache::purge(std::vector<std::string> object_keys) {
  for (const auto& k : object_keys) erase(k);
}

}  // namespace isvc::api
