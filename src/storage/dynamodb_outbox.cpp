// DynamoDbMetadataStore's webhook outbox (domain/ports/event_outbox.h), without transactions
// (dynalite and several compatible engines have no TransactWriteItems):
//   - an image write carries its events in the record item itself (attribute "obx", a map of
//     event rows), in the same conditional PutItem/UpdateItem, on the condition that no earlier
//     events wait there (attribute_not_exists(obx));
//   - right after, still before the write is acknowledged, they move to their outbox items and
//     obx is removed (relay); a crash in between leaves them in the record, where the next write
//     of that record (whose condition fails on them) or recover_events (a scan) moves them.
//   outbox:  PK=WHK#{target}       SK={orderKey}#{seq, 20 digits}#{eventId}
//   parked:  PK=WHKPARKED#{target} SK=(the same)
// One partition per target, so that a Query reads events in (order key, seq) order: the first
// item of an order key is its head. (A partition takes ~1,000 writes/s: the ceiling on events per
// second per target.)
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <set>

#include "domain/model/error.h"
#include "storage/dynamodb_item.h"
#include "storage/dynamodb_metadata_store.h"

namespace isvc::storage {

namespace json = boost::json;
using domain::Error;
using domain::ErrorCode;
using domain::OutboxEvent;
using namespace dynamo;

namespace {

constexpr const char* kConditionFailed = "ConditionalCheckFailedException";
constexpr int kClaimScanItems = 1000;  // how far into a target's backlog one claim looks

std::string event_sk(const OutboxEvent& e) {
  char seq[24];
  std::snprintf(seq, sizeof seq, "%020lld", static_cast<long long>(e.seq));
  return e.order_key + "#" + seq + "#" + e.id;
}

json::object event_key(const std::string& prefix, const OutboxEvent& e) {
  return {{"PK", S(prefix + e.target)}, {"SK", S(event_sk(e))}};
}

std::string encode_event(const OutboxEvent& e) {
  return json::serialize(json::object{{"target", e.target},
                                      {"id", e.id},
                                      {"type", e.type},
                                      {"orderKey", e.order_key},
                                      {"seq", e.seq},
                                      {"createdMs", e.created_ms},
                                      {"body", e.body}});
}

std::optional<OutboxEvent> decode_event(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  try {
    OutboxEvent e;
    e.target = json::value_to<std::string>(o.at("target"));
    e.id = json::value_to<std::string>(o.at("id"));
    e.type = json::value_to<std::string>(o.at("type"));
    e.order_key = json::value_to<std::string>(o.at("orderKey"));
    e.seq = o.at("seq").to_number<int64_t>();
    e.created_ms = o.at("createdMs").to_number<int64_t>();
    e.body = json::value_to<std::string>(o.at("body"));
    return e;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

json::object outbox_item(const OutboxEvent& e) {
  auto item = event_key("WHK#", e);
  item["id"] = S(e.id);
  item["type"] = S(e.type);
  item["orderKey"] = S(e.order_key);
  item["seq"] = N(e.seq);
  item["createdMs"] = N(e.created_ms);
  item["body"] = S(e.body);
  item["attempts"] = N(e.attempts);
  item["nextAt"] = N(e.next_attempt_ms);
  item["leaseUntil"] = N(0);
  return item;
}

OutboxEvent from_outbox_item(const std::string& target, const json::object& item) {
  OutboxEvent e;
  e.target = target;
  e.id = str_attr(item, "id").value_or("");
  e.type = str_attr(item, "type").value_or("");
  e.order_key = str_attr(item, "orderKey").value_or("");
  e.seq = num_attr(item, "seq").value_or(0);
  e.created_ms = num_attr(item, "createdMs").value_or(0);
  e.body = str_attr(item, "body").value_or("");
  e.attempts = int(num_attr(item, "attempts").value_or(0));
  e.next_attempt_ms = num_attr(item, "nextAt").value_or(0);
  return e;
}

}  // namespace

namespace dynamo {

// The "obx" attribute for a write's events (one map entry per target row).
json::object outbox_attribute(const domain::Events& events) {
  json::object m;
  for (const auto& e : events) m[e.target + "_" + e.id] = S(encode_event(e));
  return json::object{{"M", std::move(m)}};
}

}  // namespace dynamo

void DynamoDbMetadataStore::relay_events(const std::string& image_id, const json::object& obx) {
  const auto* m = obx.if_contains("M");
  if (!m || !m->is_object() || m->as_object().empty()) return;
  for (const auto& [k, v] : m->as_object()) {
    const auto* s = v.is_object() ? v.as_object().if_contains("S") : nullptr;
    auto e = s && s->is_string() ? decode_event(s->as_string()) : std::nullopt;
    if (!e) continue;  // not ours to read: dropped with the attribute
    auto r = db_.call("PutItem", json::object{{"TableName", table_},
                                              {"Item", outbox_item(*e)},
                                              {"ConditionExpression", "attribute_not_exists(PK)"}});
    if (!r.ok && r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb PutItem (outbox) failed: " + r.error_type);
  }
  // Only if obx still holds these events (another relay may have moved them and a new write put
  // others there since).
  auto first = std::string(m->as_object().begin()->key());
  auto r = db_.call("UpdateItem",
                    json::object{{"TableName", table_},
                                 {"Key", {{"PK", S(image_pk(image_id))}, {"SK", S("METADATA")}}},
                                 {"UpdateExpression", "REMOVE obx"},
                                 {"ConditionExpression", "attribute_exists(obx.#k)"},
                                 {"ExpressionAttributeNames", {{"#k", first}}}});
  if (!r.ok && r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem (outbox) failed: " + r.error_type);
}

void DynamoDbMetadataStore::relay_events(const std::string& image_id,
                                         const domain::Events& events) {
  if (events.empty()) return;
  // The change is made and its events are stored (in the record): a failure to move them now
  // must not fail the write, whose caller would undo work that stands (an upload would delete
  // the objects of a stored record). They wait in obx for the next write or recover_events.
  try {
    relay_events(image_id, outbox_attribute(events));
  } catch (const std::exception&) {
  }
}

bool DynamoDbMetadataStore::relay_pending(const std::string& image_id) {
  auto body = db_.must("GetItem",
                       json::object{{"TableName", table_},
                                    {"Key", {{"PK", S(image_pk(image_id))}, {"SK", S("METADATA")}}},
                                    {"ConsistentRead", true},
                                    {"ProjectionExpression", "obx"}});
  const auto* item = body.as_object().if_contains("Item");
  if (!item || !item->is_object()) return false;
  const auto* obx = item->as_object().if_contains("obx");
  if (!obx || !obx->is_object()) return false;
  relay_events(image_id, obx->as_object());
  return true;
}

int64_t DynamoDbMetadataStore::recover_events() {
  json::object req{{"TableName", table_},
                   {"FilterExpression", "attribute_exists(obx)"},
                   {"ProjectionExpression", "PK, obx"}};
  int64_t n = 0;
  for (;;) {
    auto body = db_.must("Scan", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array())
      for (const auto& it : items->as_array()) {
        auto pk = str_attr(it.as_object(), "PK").value_or("");
        if (pk.rfind("IMAGE#", 0) != 0) continue;
        relay_events(pk.substr(6), it.as_object().at("obx").as_object());
        ++n;
      }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) break;
    req["ExclusiveStartKey"] = *last;
  }
  return n;
}

void DynamoDbMetadataStore::append_events(const std::vector<OutboxEvent>& events) {
  for (const auto& e : events) {
    auto r = db_.call("PutItem", json::object{{"TableName", table_},
                                              {"Item", outbox_item(e)},
                                              {"ConditionExpression", "attribute_not_exists(PK)"}});
    if (!r.ok && r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb PutItem (outbox) failed: " + r.error_type);
  }
}

std::vector<OutboxEvent> DynamoDbMetadataStore::claim_events(const std::string& target,
                                                             const std::string& owner,
                                                             int64_t now_ms, int64_t lease_until_ms,
                                                             int limit) {
  json::object req{{"TableName", table_},
                   {"KeyConditionExpression", "PK = :pk"},
                   {"ConsistentRead", true},
                   {"ExpressionAttributeValues", {{":pk", S("WHK#" + target)}}}};
  std::set<std::string> keys_seen;
  std::vector<std::pair<OutboxEvent, int64_t>> due;  // with its sort key's lease
  std::vector<json::object> due_keys;
  int read = 0;
  std::vector<std::tuple<int64_t, std::string, OutboxEvent>> candidates;
  while (read < kClaimScanItems) {
    auto body = db_.must("Query", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array())
      for (const auto& it : items->as_array()) {
        ++read;
        const auto& item = it.as_object();
        auto e = from_outbox_item(target, item);
        if (!keys_seen.insert(e.order_key).second) continue;  // not the head of its key
        if (e.next_attempt_ms > now_ms || num_attr(item, "leaseUntil").value_or(0) >= now_ms)
          continue;
        candidates.emplace_back(e.created_ms, e.id, std::move(e));
      }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) break;
    req["ExclusiveStartKey"] = *last;
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  std::vector<OutboxEvent> out;
  for (auto& [created, id, e] : candidates) {
    if (int(out.size()) >= limit) break;
    auto r = db_.call(
        "UpdateItem",
        json::object{{"TableName", table_},
                     {"Key", event_key("WHK#", e)},
                     {"UpdateExpression", "SET leaseOwner = :o, leaseUntil = :u"},
                     {"ConditionExpression", "attribute_exists(PK) AND leaseUntil < :now"},
                     {"ExpressionAttributeValues",
                      {{":o", S(owner)}, {":u", N(lease_until_ms)}, {":now", N(now_ms)}}}});
    if (r.ok) {
      out.push_back(std::move(e));
    } else if (r.error_type != kConditionFailed) {
      throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem (claim) failed: " + r.error_type);
    }
  }
  return out;
}

bool DynamoDbMetadataStore::ack_event(const OutboxEvent& e, const std::string& owner) {
  auto r = db_.call("DeleteItem", json::object{{"TableName", table_},
                                               {"Key", event_key("WHK#", e)},
                                               {"ConditionExpression", "leaseOwner = :o"},
                                               {"ExpressionAttributeValues", {{":o", S(owner)}}}});
  if (r.ok) return true;
  if (r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb DeleteItem (outbox) failed: " + r.error_type);
  return false;
}

bool DynamoDbMetadataStore::retry_event(const OutboxEvent& e, const std::string& owner,
                                        int64_t next_attempt_ms) {
  auto r = db_.call(
      "UpdateItem",
      json::object{
          {"TableName", table_},
          {"Key", event_key("WHK#", e)},
          {"UpdateExpression",
           "SET attempts = attempts + :one, nextAt = :n, leaseUntil = :z REMOVE leaseOwner"},
          {"ConditionExpression", "leaseOwner = :o"},
          {"ExpressionAttributeValues",
           {{":one", N(1)}, {":n", N(next_attempt_ms)}, {":z", N(0)}, {":o", S(owner)}}}});
  if (r.ok) return true;
  if (r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem (outbox) failed: " + r.error_type);
  return false;
}

bool DynamoDbMetadataStore::park_event(const OutboxEvent& e, const std::string& owner,
                                       const std::string& reason) {
  // Out of the pending partition first (only while ours), then the copy kept for inspection.
  auto r = db_.call("DeleteItem", json::object{{"TableName", table_},
                                               {"Key", event_key("WHK#", e)},
                                               {"ConditionExpression", "leaseOwner = :o"},
                                               {"ExpressionAttributeValues", {{":o", S(owner)}}},
                                               {"ReturnValues", "ALL_OLD"}});
  if (!r.ok) {
    if (r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb DeleteItem (outbox) failed: " + r.error_type);
    return false;
  }
  auto item = outbox_item(e);
  item["PK"] = S("WHKPARKED#" + e.target);
  item["reason"] = S(reason);
  db_.must("PutItem", json::object{{"TableName", table_}, {"Item", item}});
  return true;
}

namespace {
int64_t count_partition(aws::DynamoDbClient& db, const std::string& table, const std::string& pk) {
  // One page (up to 1 MB of items): a gauge, not an audit.
  auto body = db.must("Query", json::object{{"TableName", table},
                                            {"KeyConditionExpression", "PK = :pk"},
                                            {"Select", "COUNT"},
                                            {"ExpressionAttributeValues", {{":pk", S(pk)}}}});
  auto* c = body.as_object().if_contains("Count");
  return c && c->is_int64() ? c->as_int64() : 0;
}
}  // namespace

int64_t DynamoDbMetadataStore::pending_events(const std::string& target) {
  return count_partition(db_, table_, "WHK#" + target);
}

int64_t DynamoDbMetadataStore::parked_events(const std::string& target) {
  return count_partition(db_, table_, "WHKPARKED#" + target);
}

}  // namespace isvc::storage
