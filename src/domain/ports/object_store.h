// Port: where image bytes live. Adapters: storage/fs_object_store (embedded),
// storage/s3_object_store (distributed). Keys follow domain/model/object_keys.h; a key no store
// accepts is absent (never an error). Every adapter passes tests/conformance/object_store_test.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ports/backend_health.h"

namespace isvc::domain {

struct ObjectInfo {
  int64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string etag;  // strong validator, quoted form not included (e.g. 32 hex chars)
  std::string content_type;
};

struct ByteRange {
  int64_t first = 0;  // inclusive
  int64_t last = 0;   // inclusive
};

struct ObjectData {
  ObjectInfo info;
  std::string bytes;  // the whole object, or only the requested range
};

class ObjectStore : public BackendHealth {
 public:
  virtual ~ObjectStore() = default;

  // Writes the object atomically: readers see the old state or the complete new bytes, never a
  // torn object, also across a crash. Throws domain::Error(StorageFailed / Unavailable).
  virtual void put(const std::string& key, std::string_view bytes,
                   const std::string& content_type) = 0;

  virtual std::optional<ObjectInfo> head(const std::string& key) = 0;

  // The object (or the given range of it, which the caller has checked against the size), or
  // nullopt when missing.
  virtual std::optional<ObjectData> get(const std::string& key,
                                        std::optional<ByteRange> range = std::nullopt) = 0;

  // Deletes the object; deleting a missing object is not an error.
  virtual void remove(const std::string& key) = 0;

  // Deletes all of them (missing ones are not an error), in as few requests as the store allows
  // (S3: one DeleteObjects per 1,000 keys). Throws when any of them could not be deleted.
  virtual void remove_all(const std::vector<std::string>& keys) {
    for (const auto& k : keys) remove(k);
  }

  // Visits every key under the prefix with its info. Return false to stop.
  virtual void list(
      const std::string& prefix,
      const std::function<bool(const std::string& key, const ObjectInfo&)>& visit) = 0;

  virtual std::string bucket() const = 0;  // "local" for the filesystem
};

}  // namespace isvc::domain
