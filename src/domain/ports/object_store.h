// Port: where image bytes live. Adapters: storage/fs_object_store (embedded),
// storage/s3_object_store (distributed). Keys follow domain/model/object_keys.h; a key no store
// accepts is absent (never an error). Every adapter passes tests/conformance/object_store_test.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
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

// An object opened for delivery, read in pieces rather than held whole (GET /files). Objects are
// immutable, so a reader sees one version from its first read to its last.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // A descriptor of a local file holding exactly the object's bytes (the kernel can send them
  // itself), or -1. Valid while the reader lives.
  virtual int file_descriptor() const { return -1; }
  // The whole object in memory, when the reader has it there (valid while the reader lives).
  virtual const std::string* bytes() const { return nullptr; }
  // Whether read() waits on the network (the caller then reads off its I/O threads).
  virtual bool remote() const { return false; }
  // Up to `max` bytes at `offset` into `dst`; returns how many, 0 only at the end. Throws
  // domain::Error(StorageFailed / Unavailable) when they cannot be read, including when the object
  // vanished or changed since it was opened: never returns bytes of another version.
  virtual std::size_t read(int64_t offset, char* dst, std::size_t max) = 0;
};

// An object read whole into memory, served by the default ObjectStore::open.
class MemoryObjectReader final : public ObjectReader {
 public:
  explicit MemoryObjectReader(std::string bytes) : bytes_(std::move(bytes)) {}
  const std::string* bytes() const override { return &bytes_; }
  std::size_t read(int64_t offset, char* dst, std::size_t max) override {
    if (offset < 0 || std::size_t(offset) >= bytes_.size()) return 0;
    std::size_t n = std::min(max, bytes_.size() - std::size_t(offset));
    std::memcpy(dst, bytes_.data() + offset, n);
    return n;
  }

 private:
  std::string bytes_;
};

struct OpenObject {
  ObjectInfo info;
  std::shared_ptr<ObjectReader> reader;
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

  // The object opened for reading in pieces (its info known at once), or nullopt when missing.
  // The default reads it whole with get(); a store that can do better (a file descriptor, a
  // stream) overrides it.
  virtual std::optional<OpenObject> open(const std::string& key) {
    auto data = get(key);
    if (!data) return std::nullopt;
    return OpenObject{std::move(data->info),
                      std::make_shared<MemoryObjectReader>(std::move(data->bytes))};
  }

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
