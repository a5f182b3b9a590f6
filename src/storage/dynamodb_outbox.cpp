// DynamoDbMetadataStore's webhook outbox (domain/ports/event_outbox.h), without transactions
// (dynalite and several compatible engines have no TransactWriteItems):
//   - an image write carries its events in the record item itself (attribute "obx", a map of
//     event rows), in the same conditional PutItem/UpdateItem, on the condition that no earlier
//     events wait there (attribute_not_exists(obx));
//   - right after, still before the write is acknowledged, they move to their outbox items and
//     obx is removed (relay); a crash in between leaves them in the record, where the next write
//     of that record (whose condition fails on them) or recover_events (a scan) moves them.
//   outbox:  PK=WHK#{target}#{shard}  SK={orderKey}#{seq, 20 digits}#{eventId}
//   parked:  PK=WHKPARKED#{target}    SK=(the same)
// A target's outbox is split over kOutboxShards partitions by order key (outbox_shard: every event
// of one image in one partition, where a Query reads them in (order key, seq) order, so the first
// item of an order key is its head), so that no partition takes every change's event (~1,000
// writes/s each). A claim reads every shard and takes the oldest due heads across them.
// Earlier builds wrote one partition per target (PK=WHK#{target}); a claim reads it too, after
// the shards, and an order key with an event there is held back in the shards until that event
// has gone (see claim_events), so events recorded before an upgrade are still delivered, in order.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>

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
// How far into each partition of a target's backlog one claim looks (the shards and the
// unsharded partition of earlier builds: about 1,000 items in all).
constexpr int kClaimScanItems = 1000 / (kOutboxShards + 1);

std::string event_sk(const OutboxEvent& e) {
  char seq[24];
  std::snprintf(seq, sizeof seq, "%020lld", static_cast<long long>(e.seq));
  return e.order_key + "#" + seq + "#" + e.id;
}

// Where an event waits: its target's shard for its order key.
json::object event_key(const OutboxEvent& e) {
  return {{"PK", S(outbox_pk(e.target, e.order_key))}, {"SK", S(event_sk(e))}};
}
// The same event in the unsharded partition of an earlier build.
json::object legacy_event_key(const OutboxEvent& e) {
  return {{"PK", S(outbox_legacy_pk(e.target))}, {"SK", S(event_sk(e))}};
}
json::object parked_event_key(const OutboxEvent& e) {
  return {{"PK", S("WHKPARKED#" + e.target)}, {"SK", S(event_sk(e))}};
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
  auto item = event_key(e);
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
  // The head of each order key: its first item in the partition that holds it. An order key lives
  // in one shard, and in the unsharded partition only while events of an earlier build wait there.
  struct Head {
    json::object key;  // PK and SK of the item
    OutboxEvent event;
    int64_t lease_until = 0;
  };
  std::map<std::string, Head> heads;  // by order key
  // Reads up to kClaimScanItems items of one partition; returns the last order key read when
  // the partition holds more than that (the keys after it were not seen), else nullopt.
  auto read = [&](const std::string& pk) -> std::optional<std::string> {
    json::object req{{"TableName", table_},
                     {"KeyConditionExpression", "PK = :pk"},
                     {"ConsistentRead", true},
                     {"Limit", kClaimScanItems},
                     {"ExpressionAttributeValues", {{":pk", S(pk)}}}};
    auto body = db_.must("Query", req);
    const auto& o = body.as_object();
    std::string last_key;
    if (auto* items = o.if_contains("Items"); items && items->is_array())
      for (const auto& it : items->as_array()) {
        const auto& item = it.as_object();
        auto e = from_outbox_item(target, item);
        last_key = e.order_key;
        auto sk = event_sk(e);
        auto found = heads.find(e.order_key);
        // Within a partition the first item of a key is its head; across the two partitions a
        // key can be in, the lower (seq, id) is.
        if (found != heads.end() && event_sk(found->second.event) <= sk) continue;
        std::string order_key = e.order_key;
        heads.insert_or_assign(order_key,
                               Head{json::object{{"PK", S(pk)}, {"SK", S(sk)}}, std::move(e),
                                    num_attr(item, "leaseUntil").value_or(0)});
      }
    auto* more = o.if_contains("LastEvaluatedKey");
    if (!more || !more->is_object()) return std::nullopt;
    return last_key;
  };
  for (int shard = 0; shard < kOutboxShards; ++shard) read(outbox_shard_pk(target, shard));
  // Last: an event found in a shard above was written after every earlier event of its image had
  // been stored, so one of those still waiting in the unsharded partition is seen here.
  auto legacy_horizon = read(outbox_legacy_pk(target));

  std::vector<Head*> due;
  for (auto& [order_key, h] : heads) {
    // Keys past what was read of the unsharded partition may have an older event there.
    if (legacy_horizon && order_key > *legacy_horizon) continue;
    if (h.event.next_attempt_ms > now_ms || h.lease_until >= now_ms) continue;
    due.push_back(&h);
  }
  // Longest due first across every shard (domain::outbox_due_before): none waits behind another's
  // younger events, nor behind events that keep failing and coming due again.
  std::sort(due.begin(), due.end(), [](const Head* a, const Head* b) {
    return domain::outbox_due_before(a->event, b->event);
  });
  std::vector<OutboxEvent> out;
  for (auto* h : due) {
    if (int(out.size()) >= limit) break;
    auto r = db_.call(
        "UpdateItem",
        json::object{{"TableName", table_},
                     {"Key", h->key},
                     {"UpdateExpression", "SET leaseOwner = :o, leaseUntil = :u"},
                     {"ConditionExpression", "attribute_exists(PK) AND leaseUntil < :now"},
                     {"ExpressionAttributeValues",
                      {{":o", S(owner)}, {":u", N(lease_until_ms)}, {":now", N(now_ms)}}}});
    if (r.ok) {
      out.push_back(std::move(h->event));
    } else if (r.error_type != kConditionFailed) {
      throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem (claim) failed: " + r.error_type);
    }
  }
  return out;
}

// A settling write (ack, retry, park) on the event's item: first where this build keeps it, then,
// when that item is not ours (absent), where an earlier build kept it.
aws::DynamoResult DynamoDbMetadataStore::settle_event(const OutboxEvent& e, json::object request) {
  request["TableName"] = table_;
  request["Key"] = event_key(e);
  auto r = db_.call(request.contains("UpdateExpression") ? "UpdateItem" : "DeleteItem", request);
  if (r.ok || r.error_type != kConditionFailed) return r;
  request["Key"] = legacy_event_key(e);
  return db_.call(request.contains("UpdateExpression") ? "UpdateItem" : "DeleteItem", request);
}

bool DynamoDbMetadataStore::ack_event(const OutboxEvent& e, const std::string& owner) {
  auto r = settle_event(e, json::object{{"ConditionExpression", "leaseOwner = :o"},
                                        {"ExpressionAttributeValues", {{":o", S(owner)}}}});
  if (r.ok) return true;
  if (r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb DeleteItem (outbox) failed: " + r.error_type);
  return false;
}

bool DynamoDbMetadataStore::retry_event(const OutboxEvent& e, const std::string& owner,
                                        int64_t next_attempt_ms) {
  auto r = settle_event(
      e, json::object{
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
  auto r = settle_event(e, json::object{{"ConditionExpression", "leaseOwner = :o"},
                                        {"ExpressionAttributeValues", {{":o", S(owner)}}}});
  if (!r.ok) {
    if (r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb DeleteItem (outbox) failed: " + r.error_type);
    return false;
  }
  auto item = outbox_item(e);
  auto parked = parked_event_key(e);
  item["PK"] = parked["PK"];
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
  int64_t n = count_partition(db_, table_, outbox_legacy_pk(target));
  for (int shard = 0; shard < kOutboxShards; ++shard)
    n += count_partition(db_, table_, outbox_shard_pk(target, shard));
  return n;
}

int64_t DynamoDbMetadataStore::parked_events(const std::string& target) {
  return count_partition(db_, table_, "WHKPARKED#" + target);
}

}  // namespace isvc::storage
