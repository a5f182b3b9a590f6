// The rule every image repository keeps for object keys: no two users' images share an object.
// Shared by the adapters: which of a record's keys need an ownership check, and the error.
#pragma once

#include <string>
#include <vector>

#include "domain/model/error.h"
#include "domain/model/image_record.h"

namespace isvc::storage {

struct KeyToCheck {
  const char* field;  // "s3Key" or "thumbnailKey"
  std::string key;
  // In another user's images/{user}/ folder: a conflict without looking anything up.
  bool foreign_folder = false;
};

// The record's keys outside its owner's own images/{user}/ folder (keys inside it cannot be
// anybody else's: imports into another user's folder are refused), each once.
std::vector<KeyToCheck> keys_to_check(const domain::ImageRecord& r);

// domain::Error(ObjectKeyConflict) naming the field.
domain::Error key_conflict(const KeyToCheck& k);

}  // namespace isvc::storage
