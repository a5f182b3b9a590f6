// Ownership of object keys in the DynamoDB table (domain::ImageRepository: no two users' images
// share an object). An imported key outside its owner's images/{user}/ folder is claimed by an item
//   PK=OBJECTKEY#{key}  SK=CLAIM  userId=…  imageIds={ids of that user's images using it}  rev=n
// written with a condition (absent, or the same user), so two imports can never both own a key.
// A delete removes its id and the item once no id is left. A claim left behind by a crash (no
// image of the owner uses the key any more) is stale: the next claimant checks the ids it names
// and takes the key over, conditional on `rev`, so leftovers never block anyone for good.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "domain/model/image_record.h"

namespace isvc::storage::dynamo {

struct KeyClaim {
  std::string key;
  std::string user_id;
  std::set<std::string> image_ids;
  int64_t rev = 0;
};

boost::json::object claim_item_key(const std::string& object_key);
// A claim item as read (GetItem/BatchGetItem); nullopt when it is not one.
std::optional<KeyClaim> claim_from_item(const boost::json::object& item);
// The item for an unconditional batch write (the migration's batch path).
boost::json::object claim_to_item(const KeyClaim& c);

class KeyClaims {
 public:
  using ImageLookup = std::function<std::optional<domain::ImageRecord>(const std::string& id)>;
  KeyClaims(aws::DynamoDbClient& db, std::string table, ImageLookup get_image)
      : db_(db), table_(std::move(table)), get_(std::move(get_image)) {}

  // Claims every key of `r` that needs a claim, for (r.user_id, r.id). Throws
  // domain::Error(ObjectKeyConflict) naming the field when another user's image uses one.
  void claim(const domain::ImageRecord& r);
  // Drops r.id from the claims of r's keys (but not of those in `keep`, still in use).
  void release(const domain::ImageRecord& r, const std::set<std::string>& keep = {});
  // True when the claim is held by an image that really uses the key (not stale).
  bool genuine(const KeyClaim& c);

 private:
  bool claim_one(const domain::ImageRecord& r, const std::string& key);  // false: conflict
  aws::DynamoDbClient& db_;
  std::string table_;
  ImageLookup get_;
};

}  // namespace isvc::storage::dynamo
