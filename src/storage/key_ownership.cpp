#include "storage/key_ownership.h"

#include "domain/model/object_keys.h"

namespace isvc::storage {

std::vector<KeyToCheck> keys_to_check(const domain::ImageRecord& r) {
  std::vector<KeyToCheck> out;
  const std::string own = domain::user_key_prefix(r.user_id);
  auto add = [&](const char* field, const std::string& key) {
    if (key.rfind(own, 0) == 0) return;
    for (const auto& k : out)
      if (k.key == key) return;
    out.push_back({field, key, key.rfind("images/", 0) == 0});
  };
  add("s3Key", r.s3_key);
  if (r.thumbnail_key) add("thumbnailKey", *r.thumbnail_key);
  return out;
}

domain::Error key_conflict(const KeyToCheck& k) {
  return domain::Error(domain::ErrorCode::ObjectKeyConflict,
                       std::string(k.field) + " points at an object another user's image uses",
                       {{"field", k.field}});
}

}  // namespace isvc::storage
