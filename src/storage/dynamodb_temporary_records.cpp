// DynamoDbMetadataStore's temporary records: direct uploads (PK=UPLOAD#{id}) and idempotency keys
// (PK=IDEMPOTENCY#{key}), with a `ttl` for the engine and expiry checked on every read.
#include <boost/json.hpp>

#include "domain/model/error.h"
#include "storage/dynamodb_item.h"
#include "storage/dynamodb_metadata_store.h"

namespace isvc::storage {

namespace json = boost::json;
using domain::Error;
using domain::ErrorCode;
using namespace dynamo;

namespace {
constexpr const char* kConditionFailed = "ConditionalCheckFailedException";
}  // namespace

namespace {
json::object upload_key(const std::string& id) {
  return {{"PK", S("UPLOAD#" + id)}, {"SK", S("METADATA")}};
}
}  // namespace

void DynamoDbMetadataStore::put_upload(const domain::UploadRecord& u) {
  json::object item = upload_key(u.id);
  item["userId"] = S(u.user_id);
  item["fields"] = S(u.fields_json());
  item["createdAtMs"] = N(u.created_at_ms);
  item["expiresAtMs"] = N(u.expires_at_ms);
  item["ttl"] = N(u.expires_at_ms / 1000);  // the engine's TTL removes it eventually
  if (u.completed_image_id) item["completedImageId"] = S(*u.completed_image_id);
  db_.must("PutItem", json::object{{"TableName", table_}, {"Item", std::move(item)}});
}

std::optional<domain::UploadRecord> DynamoDbMetadataStore::get_upload(const std::string& id,
                                                                      int64_t now_ms) {
  auto body = db_.must(
      "GetItem",
      json::object{{"TableName", table_}, {"Key", upload_key(id)}, {"ConsistentRead", true}});
  auto* item = body.as_object().if_contains("Item");
  if (!item || !item->is_object()) return std::nullopt;
  const auto& o = item->as_object();
  domain::UploadRecord u;
  u.id = id;
  u.user_id = str_attr(o, "userId").value_or("");
  if (!u.read_fields_json(str_attr(o, "fields").value_or("")))
    throw Error(ErrorCode::StorageFailed, "malformed upload record " + id);
  u.created_at_ms = num_attr(o, "createdAtMs").value_or(0);
  u.expires_at_ms = num_attr(o, "expiresAtMs").value_or(0);
  u.completed_image_id = str_attr(o, "completedImageId");
  if (u.expires_at_ms <= now_ms) return std::nullopt;  // TTL deletion lags; expiry is checked here
  return u;
}

bool DynamoDbMetadataStore::claim_upload(const std::string& id, int64_t now_ms,
                                         int64_t lease_until_ms) {
  auto r = db_.call("UpdateItem",
                    json::object{{"TableName", table_},
                                 {"Key", upload_key(id)},
                                 {"UpdateExpression", "SET claimUntilMs = :lease"},
                                 {"ConditionExpression",
                                  "attribute_exists(PK) AND expiresAtMs > :now AND "
                                  "attribute_not_exists(completedImageId) AND "
                                  "(attribute_not_exists(claimUntilMs) OR claimUntilMs <= :now)"},
                                 {"ExpressionAttributeValues",
                                  {{":now", N(now_ms)}, {":lease", N(lease_until_ms)}}}});
  if (r.ok) return true;
  if (r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem failed: " + r.error_type);
  return false;
}

void DynamoDbMetadataStore::release_upload(const std::string& id) {
  db_.call("UpdateItem", json::object{{"TableName", table_},
                                      {"Key", upload_key(id)},
                                      {"UpdateExpression", "REMOVE claimUntilMs"},
                                      {"ConditionExpression", "attribute_exists(PK)"}});
}

void DynamoDbMetadataStore::remove_upload(const std::string& id) {
  db_.must("DeleteItem", json::object{{"TableName", table_}, {"Key", upload_key(id)}});
}

int64_t DynamoDbMetadataStore::remove_expired_uploads(int64_t now_ms) {
  return remove_expired("UPLOAD#", now_ms);
}

int64_t DynamoDbMetadataStore::remove_expired(const std::string& pk_prefix, int64_t now_ms) {
  // Normally the table's TTL does this; the sweep covers engines without TTL.
  json::object req{{"TableName", table_},
                   {"FilterExpression", "begins_with(PK, :p) AND expiresAtMs <= :now"},
                   {"ExpressionAttributeValues", {{":p", S(pk_prefix)}, {":now", N(now_ms)}}}};
  int64_t removed = 0;
  for (;;) {
    auto body = db_.must("Scan", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array())
      for (const auto& it : items->as_array()) {
        json::object key{{"PK", it.at("PK")}, {"SK", it.at("SK")}};
        db_.must("DeleteItem", json::object{{"TableName", table_}, {"Key", std::move(key)}});
        ++removed;
      }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) return removed;
    req["ExclusiveStartKey"] = *last;
  }
}

namespace {
json::object idempotency_key(const std::string& key) {
  return {{"PK", S("IDEMPOTENCY#" + key)}, {"SK", S("METADATA")}};
}
}  // namespace

std::optional<domain::IdempotencyRecord> DynamoDbMetadataStore::claim_idempotency(
    const domain::IdempotencyRecord& p, int64_t now_ms) {
  json::object item = idempotency_key(p.key);
  item["fingerprint"] = S(p.fingerprint);
  item["leaseUntilMs"] = N(p.lease_until_ms);
  item["expiresAtMs"] = N(p.expires_at_ms);
  item["ttl"] = N(p.expires_at_ms / 1000);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto r = db_.call("PutItem",
                      json::object{{"TableName", table_},
                                   {"Item", item},
                                   {"ConditionExpression",
                                    "attribute_not_exists(PK) OR expiresAtMs <= :now OR "
                                    "(attribute_not_exists(imageId) AND leaseUntilMs <= :now)"},
                                   {"ExpressionAttributeValues", {{":now", N(now_ms)}}}});
    if (r.ok) return std::nullopt;
    if (r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb PutItem failed: " + r.error_type);
    auto body = db_.must("GetItem", json::object{{"TableName", table_},
                                                 {"Key", idempotency_key(p.key)},
                                                 {"ConsistentRead", true}});
    auto* found = body.as_object().if_contains("Item");
    if (!found || !found->is_object()) continue;  // removed meanwhile: claim again
    const auto& o = found->as_object();
    domain::IdempotencyRecord held;
    held.key = p.key;
    held.fingerprint = str_attr(o, "fingerprint").value_or("");
    held.image_id = str_attr(o, "imageId");
    held.lease_until_ms = num_attr(o, "leaseUntilMs").value_or(0);
    held.expires_at_ms = num_attr(o, "expiresAtMs").value_or(0);
    return held;
  }
  throw Error(ErrorCode::Unavailable, "idempotency key kept changing; retry");
}

void DynamoDbMetadataStore::complete_idempotency(const std::string& key,
                                                 const std::string& image_id) {
  db_.must("UpdateItem", json::object{{"TableName", table_},
                                      {"Key", idempotency_key(key)},
                                      {"UpdateExpression", "SET imageId = :id"},
                                      {"ExpressionAttributeValues", {{":id", S(image_id)}}}});
}

void DynamoDbMetadataStore::release_idempotency(const std::string& key) {
  db_.call("DeleteItem", json::object{{"TableName", table_},
                                      {"Key", idempotency_key(key)},
                                      {"ConditionExpression", "attribute_not_exists(imageId)"}});
}

int64_t DynamoDbMetadataStore::remove_expired_idempotency(int64_t now_ms) {
  return remove_expired("IDEMPOTENCY#", now_ms);
}

}  // namespace isvc::storage
