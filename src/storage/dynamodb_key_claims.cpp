#include "storage/dynamodb_key_claims.h"

#include <boost/json.hpp>

#include "domain/model/error.h"
#include "storage/dynamodb_item.h"
#include "storage/key_ownership.h"

namespace isvc::storage::dynamo {

namespace json = boost::json;

namespace {
constexpr const char* kConditionFailed = "ConditionalCheckFailedException";
constexpr int kAttempts = 4;
}  // namespace

json::object claim_item_key(const std::string& object_key) {
  return {{"PK", S("OBJECTKEY#" + object_key)}, {"SK", S("CLAIM")}};
}

std::optional<KeyClaim> claim_from_item(const json::object& item) {
  auto pk = str_attr(item, "PK");
  if (!pk || pk->rfind("OBJECTKEY#", 0) != 0) return std::nullopt;
  KeyClaim c;
  c.key = pk->substr(10);
  c.user_id = str_attr(item, "userId").value_or("");
  c.rev = num_attr(item, "rev").value_or(0);
  if (auto* ids = item.if_contains("imageIds"); ids && ids->is_object())
    if (auto* ss = ids->as_object().if_contains("SS"); ss && ss->is_array())
      for (const auto& v : ss->as_array())
        if (v.is_string()) c.image_ids.insert(std::string(v.as_string()));
  return c;
}

json::object claim_to_item(const KeyClaim& c) {
  json::object item = claim_item_key(c.key);
  item["userId"] = S(c.user_id);
  json::array ids;
  for (const auto& id : c.image_ids) ids.push_back(json::string(id));
  item["imageIds"] = json::object{{"SS", std::move(ids)}};
  item["rev"] = N(c.rev);
  return item;
}

bool KeyClaims::genuine(const KeyClaim& c) {
  for (const auto& id : c.image_ids) {
    auto img = get_(id);
    if (img && img->user_id == c.user_id &&
        (img->s3_key == c.key || (img->thumbnail_key && *img->thumbnail_key == c.key)))
      return true;
  }
  return false;
}

bool KeyClaims::claim_one(const domain::ImageRecord& r, const std::string& key) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto res = db_.call(
        "UpdateItem",
        json::object{{"TableName", table_},
                     {"Key", claim_item_key(key)},
                     {"UpdateExpression", "SET userId = :u ADD imageIds :ids, rev :one"},
                     {"ConditionExpression", "attribute_not_exists(userId) OR userId = :u"},
                     {"ExpressionAttributeValues",
                      {{":u", S(r.user_id)},
                       {":ids", {{"SS", json::array{json::string(r.id)}}}},
                       {":one", N(1)}}}});
    if (res.ok) return true;
    if (res.error_type != kConditionFailed)
      throw domain::Error(domain::ErrorCode::StorageFailed,
                          "dynamodb UpdateItem (key claim) failed: " + res.error_type);
    auto body = db_.must("GetItem", json::object{{"TableName", table_},
                                                 {"Key", claim_item_key(key)},
                                                 {"ConsistentRead", true}});
    auto* item = body.as_object().if_contains("Item");
    if (!item || !item->is_object()) continue;  // released meanwhile: claim again
    auto held = claim_from_item(item->as_object());
    if (!held || genuine(*held)) return false;
    // Stale (left by a crash or a failed import): take it over unless it moved since it was read.
    db_.call("DeleteItem", json::object{{"TableName", table_},
                                        {"Key", claim_item_key(key)},
                                        {"ConditionExpression", "userId = :u AND rev = :rev"},
                                        {"ExpressionAttributeValues",
                                         {{":u", S(held->user_id)}, {":rev", N(held->rev)}}}});
  }
  return false;
}

void KeyClaims::claim(const domain::ImageRecord& r) {
  for (const auto& k : keys_to_check(r)) {
    if (k.foreign_folder) throw key_conflict(k);
    if (!claim_one(r, k.key)) throw key_conflict(k);
  }
}

void KeyClaims::release(const domain::ImageRecord& r, const std::set<std::string>& keep) {
  for (const auto& k : keys_to_check(r)) {
    if (k.foreign_folder || keep.count(k.key)) continue;
    // Best effort: a claim that stays behind is stale, and the next claimant takes it over.
    auto res = db_.call("UpdateItem",
                        json::object{{"TableName", table_},
                                     {"Key", claim_item_key(k.key)},
                                     {"UpdateExpression", "DELETE imageIds :ids ADD rev :one"},
                                     {"ConditionExpression", "userId = :u"},
                                     {"ExpressionAttributeValues",
                                      {{":u", S(r.user_id)},
                                       {":ids", {{"SS", json::array{json::string(r.id)}}}},
                                       {":one", N(1)}}}});
    if (!res.ok) continue;
    db_.call("DeleteItem",
             json::object{{"TableName", table_},
                          {"Key", claim_item_key(k.key)},
                          {"ConditionExpression", "attribute_not_exists(imageIds) AND userId = :u"},
                          {"ExpressionAttributeValues", {{":u", S(r.user_id)}}}});
  }
}

}  // namespace isvc::storage::dynamo
