// domain::ObjectStore on the local filesystem (embedded mode). Writes are atomic and durable: temp
// file + fsync + rename + directory fsync, so a crash never leaves a torn object visible.
#pragma once

#include <string>

#include "domain/ports/object_store.h"

namespace isvc::storage {

class FsObjectStore final : public domain::ObjectStore {
 public:
  explicit FsObjectStore(std::string root_dir);

  void put(const std::string& key, std::string_view bytes,
           const std::string& content_type) override;
  std::optional<domain::ObjectInfo> head(const std::string& key) override;
  std::optional<domain::ObjectData> get(
      const std::string& key, std::optional<domain::ByteRange> range = std::nullopt) override;
  // The open file itself: its descriptor is sent with sendfile(2). A replacement or a delete of
  // the key while it is read does not touch the open file (rename and unlink leave its inode).
  std::optional<domain::OpenObject> open(const std::string& key) override;
  void remove(const std::string& key) override;
  void list(
      const std::string& prefix,
      const std::function<bool(const std::string&, const domain::ObjectInfo&)>& visit) override;
  std::string name() const override { return "filesystem"; }
  std::string bucket() const override { return "local"; }
  bool healthy() override;

  // A key is a relative path of non-empty segments without `.`/`..`, backslashes or control bytes.
  static bool valid_key(std::string_view key);

 private:
  std::string path_of(const std::string& key) const { return root_ + "/" + key; }
  std::string root_;
};

}  // namespace isvc::storage
