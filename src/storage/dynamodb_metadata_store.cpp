#include "storage/dynamodb_metadata_store.h"

#include <boost/json.hpp>
#include <map>
#include <set>

#include "domain/model/error.h"
#include "storage/dynamodb_batch.h"
#include "storage/dynamodb_item.h"
#include "storage/key_ownership.h"

namespace isvc::storage {

namespace json = boost::json;
using domain::Error;
using domain::ErrorCode;
using domain::ImageRecord;
using domain::ImageState;
using namespace dynamo;

namespace {

int64_t num_attr_plain(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_number() ? v->to_number<int64_t>() : 0;
}

constexpr const char* kConditionFailed = "ConditionalCheckFailedException";

json::object image_key(const std::string& id) {
  return {{"PK", S(image_pk(id))}, {"SK", S("METADATA")}};
}

// Counter changes of one write: per-user cells plus, per global shard, count, bytes and day.
struct GlobalDelta {
  int64_t n = 0, bytes = 0;
  std::map<std::string, int64_t> days;
  bool empty() const {
    for (const auto& [k, v] : days)
      if (v != 0) return false;
    return n == 0 && bytes == 0;
  }
};

struct CounterDelta {
  std::map<CounterCell, int64_t> cells;
  std::map<std::string, GlobalDelta> global;  // by shard SK

  void add(const ImageRecord& r, int64_t sign) {
    for (const auto& c : user_cells(r)) cells[c] += sign;
    auto& g = global[global_shard_sk(r.id)];
    g.n += sign;
    g.bytes += sign * (r.processed_size + r.thumbnail_size);
    g.days[day_attribute(r.uploaded_at_ms)] += sign;
  }
};

}  // namespace

DynamoDbMetadataStore::DynamoDbMetadataStore(aws::DynamoDbClient& db, std::string table)
    : db_(db),
      table_(std::move(table)),
      claims_(db, table_, [this](const std::string& id) { return get(id); }) {}

namespace {

// One ADD per changed user cell and one per changed global shard, all sent at once (different
// items, so order does not matter; the write waits for the slowest instead of for their sum).
void apply(aws::DynamoDbClient& db, const std::string& table, const CounterDelta& d) {
  std::vector<json::object> adds;
  for (const auto& [c, v] : d.cells)
    if (v != 0)
      adds.push_back(json::object{{"TableName", table},
                                  {"Key", {{"PK", S(c.pk)}, {"SK", S(c.sk)}}},
                                  {"UpdateExpression", "ADD #n :d"},
                                  {"ExpressionAttributeNames", {{"#n", "n"}}},
                                  {"ExpressionAttributeValues", {{":d", N(v)}}}});
  for (const auto& [shard, g] : d.global) {
    if (g.empty()) continue;
    std::string expr = "ADD #n :n, #b :b";
    json::object names{{"#n", "n"}, {"#b", "bytes"}};
    json::object values{{":n", N(g.n)}, {":b", N(g.bytes)}};
    int i = 0;
    for (const auto& [day, v] : g.days) {
      if (v == 0) continue;
      auto k = std::to_string(i++);
      expr += ", #d" + k + " :d" + k;
      names["#d" + k] = day;
      values[":d" + k] = N(v);
    }
    adds.push_back(json::object{{"TableName", table},
                                {"Key", {{"PK", S(kGlobalPk)}, {"SK", S(shard)}}},
                                {"UpdateExpression", expr},
                                {"ExpressionAttributeNames", std::move(names)},
                                {"ExpressionAttributeValues", std::move(values)}});
  }
  dynamo::call_all([&db](std::string_view op, const json::value& r) { return db.call(op, r); },
                   "UpdateItem", adds);
}

}  // namespace

void DynamoDbMetadataStore::account(const ImageRecord& r, int delta) {
  CounterDelta d;
  d.add(r, delta);
  apply(db_, table_, d);
}

domain::WriteResult DynamoDbMetadataStore::insert(const ImageRecord& rec,
                                                  const domain::Events& events) {
  // Claims first: a crash after them leaves only a stale claim, never an unclaimed image.
  if (auto conflict = claim_keys(rec)) return *conflict;
  auto item = to_item(rec);
  if (!events.empty()) item["obx"] = outbox_attribute(events);  // with the record, or not at all
  auto r = db_.call("PutItem", json::object{{"TableName", table_},
                                            {"Item", std::move(item)},
                                            {"ConditionExpression", "attribute_not_exists(PK)"}});
  if (!r.ok) {
    if (r.error_type == kConditionFailed) return domain::WriteResult::id_exists();
    throw Error(ErrorCode::StorageFailed, "dynamodb PutItem failed: " + r.error_type);
  }
  if (rec.state != ImageState::Active) {
    relay_events(rec.id, events);
    return {};
  }
  try {
    account(rec, +1);
  } catch (...) {
    // Not acknowledged: take the image back out so nothing half-written stays visible. Counters
    // already moved (or a failed take-back) are drift that fsck repairs.
    try {
      db_.call("DeleteItem", json::object{{"TableName", table_}, {"Key", image_key(rec.id)}});
    } catch (...) {
    }
    throw;
  }
  relay_events(rec.id, events);
  return {};
}

std::optional<domain::WriteResult> DynamoDbMetadataStore::claim_keys(const ImageRecord& rec) {
  try {
    claims_.claim(rec);
    return std::nullopt;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::ObjectKeyConflict) throw;
    auto f = e.details().find("field");
    return domain::WriteResult::key_conflict(f == e.details().end() ? "s3Key" : f->second);
  }
}

std::optional<ImageRecord> DynamoDbMetadataStore::get(const std::string& id) {
  auto body = db_.must(
      "GetItem",
      json::object{{"TableName", table_}, {"Key", image_key(id)}, {"ConsistentRead", true}});
  auto* item = body.as_object().if_contains("Item");
  if (!item || !item->is_object()) return std::nullopt;
  return from_item(item->as_object());
}

domain::WriteResult DynamoDbMetadataStore::update(const ImageRecord& rec, int64_t expected_version,
                                                  const domain::Events& events) {
  ImageRecord next = rec;
  next.state = ImageState::Active;
  // First on the condition that the owner and object keys stay as they are (every PATCH):
  // nothing to claim. When they change (an import), the new keys are claimed and the write is
  // repeated.
  auto put = [&](bool same_keys) {
    // No events of an earlier write may still wait in the item: the new item would drop them.
    std::string cond =
        "attribute_exists(PK) AND #v = :v AND #s = :active AND attribute_not_exists(obx)";
    json::object values{{":v", N(expected_version)}, {":active", S("active")}};
    // The variant list as this write's record has it (note_variant adds without a new version):
    // an entry added since fails the condition, and the write is repeated with the list as it is.
    if (next.variant_keys) {
      cond += " AND vkn = :vkn";
      values[":vkn"] = N(next.variant_rev);
    }
    if (same_keys) {
      cond += " AND userId = :u AND s3Key = :k AND ";
      values[":u"] = S(next.user_id);
      values[":k"] = S(next.s3_key);
      if (next.thumbnail_key) {
        cond += "thumbnailKey = :t";
        values[":t"] = S(*next.thumbnail_key);
      } else {
        cond += "attribute_not_exists(thumbnailKey)";
      }
    }
    auto item = to_item(next);
    if (!events.empty()) item["obx"] = outbox_attribute(events);
    return db_.call("PutItem",
                    json::object{{"TableName", table_},
                                 {"Item", std::move(item)},
                                 {"ConditionExpression", cond},
                                 {"ExpressionAttributeNames", {{"#v", "version"}, {"#s", "state"}}},
                                 {"ExpressionAttributeValues", std::move(values)},
                                 {"ReturnValues", "ALL_OLD"}});
  };
  // After a failed condition: what the caller gets, or nullopt when only the keys differ.
  auto refusal = [&](const std::optional<ImageRecord>& cur) -> std::optional<domain::WriteResult> {
    if (!cur || cur->state != ImageState::Active) return domain::WriteResult::not_found();
    if (cur->version == expected_version) return std::nullopt;
    return domain::WriteResult::version_mismatch(cur->version);
  };
  auto r = put(true);
  // Events a crash left in the item: moved out, then the write again.
  for (int i = 0; i < 4 && !r.ok && r.error_type == kConditionFailed && relay_pending(rec.id); ++i)
    r = put(true);
  // A variant recorded since the caller's read: taken along, then the write again.
  for (int i = 0; i < 8 && !r.ok && r.error_type == kConditionFailed && next.variant_keys; ++i) {
    auto cur = get(rec.id);
    if (!cur || cur->state != ImageState::Active || cur->version != expected_version ||
        (cur->variant_keys == next.variant_keys && cur->variant_rev == next.variant_rev))
      break;
    next.variant_keys = cur->variant_keys;
    next.variant_rev = cur->variant_rev;
    r = put(true);
  }
  for (bool same_keys = true; !r.ok; same_keys = false) {
    if (r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb PutItem failed: " + r.error_type);
    auto cur = get(rec.id);
    if (auto no = refusal(cur)) return *no;
    if (!same_keys)  // changed and changed back meanwhile: let the caller look again
      return domain::WriteResult::version_mismatch(cur->version);
    if (auto conflict = claim_keys(next)) return *conflict;  // the keys change: claim them first
    r = put(false);
  }
  auto* old_item = r.body.as_object().if_contains("Attributes");
  if (!old_item || !old_item->is_object()) {
    relay_events(rec.id, events);
    return {};
  }
  ImageRecord old = from_item(old_item->as_object());
  if (old.user_id != next.user_id) {
    claims_.release(old);
  } else if (old.s3_key != next.s3_key || old.thumbnail_key != next.thumbnail_key) {
    std::set<std::string> keep{next.s3_key};
    if (next.thumbnail_key) keep.insert(*next.thumbnail_key);
    claims_.release(old, keep);
  }
  CounterDelta d;
  d.add(old, -1);
  d.add(next, +1);
  apply(db_, table_, d);
  relay_events(rec.id, events);
  return {};
}

bool DynamoDbMetadataStore::note_variant(const std::string& id, const std::string& key) {
  auto r = db_.call(
      "UpdateItem",
      json::object{{"TableName", table_},
                   {"Key", image_key(id)},
                   {"UpdateExpression", "ADD vks :k, vkn :one"},
                   // Only an active record that keeps the list: an older item (no vkn) gets
                   // none, as it would be incomplete (its delete lists the variant prefix).
                   {"ConditionExpression", "#s = :active AND attribute_exists(vkn)"},
                   {"ExpressionAttributeNames", {{"#s", "state"}}},
                   {"ExpressionAttributeValues",
                    {{":k", json::object{{"SS", json::array{json::value(key)}}}},
                     {":one", N(1)},
                     {":active", S("active")}}}});
  if (r.ok) return true;
  if (r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem failed: " + r.error_type);
  auto cur = get(id);
  return cur && cur->state == ImageState::Active && !cur->variant_keys;
}

std::optional<ImageRecord> DynamoDbMetadataStore::mark_if_unchanged(const ImageRecord& cur,
                                                                    const domain::Events& events) {
  json::object marks{{":deleting", S("deleting")},
                     {":active", S("active")},
                     {":dpk", S(deleting_pk(cur.user_id))},
                     {":v", N(cur.version)},
                     {":u", S(cur.user_id)}};
  if (!events.empty()) marks[":obx"] = outbox_attribute(events);
  auto r = db_.call(
      "UpdateItem",
      json::object{
          {"TableName", table_},
          {"Key", image_key(cur.id)},
          // Out of the lists and the album, taken and hash indexes, into the user's DELETING#
          // partition of the user index (GSI1SK stays), where the erasure finds it.
          {"UpdateExpression",
           events.empty() ? "SET #s = :deleting, GSI1PK = :dpk REMOVE GSI2PK, GSI2SK, GSI3PK, "
                            "GSI3SK, GSI4PK, GSI4SK"
                          : "SET #s = :deleting, GSI1PK = :dpk, obx = :obx REMOVE GSI2PK, "
                            "GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK"},
          // The version the caller read, still active and still its owner's: then the counters
          // below are exactly the ones its upload (or last change) added.
          {"ConditionExpression",
           "#s = :active AND #v = :v AND userId = :u AND attribute_not_exists(obx)"},
          {"ExpressionAttributeNames", {{"#s", "state"}, {"#v", "version"}}},
          {"ExpressionAttributeValues", marks},
          {"ReturnValues", "ALL_NEW"}});
  if (!r.ok) {
    if (r.error_type != kConditionFailed)
      throw Error(ErrorCode::StorageFailed, "dynamodb UpdateItem failed: " + r.error_type);
    relay_pending(cur.id);  // events of an earlier write may be what failed the condition
    return std::nullopt;    // changed meanwhile (updated, marked or removed)
  }
  ImageRecord now = from_item(r.body.as_object().at("Attributes").as_object());
  ImageRecord was = now;
  was.state = ImageState::Active;
  // Only the call whose condition held moves the counters: a retried DELETE finds the record
  // Deleting and never takes them back twice (a crash before this line leaves drift for fsck).
  account(was, -1);
  relay_events(cur.id, events);
  return now;
}

std::optional<ImageRecord> DynamoDbMetadataStore::mark_deleting(const std::string& id,
                                                                const domain::Events& events) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto cur = get(id);  // the user id names the DELETING# partition
    if (!cur) return std::nullopt;
    if (cur->state == ImageState::Deleting) {
      // Marked by a build that dropped deleting images from the user index: index it now, so
      // the erasure finds it.
      db_.call(
          "UpdateItem",
          json::object{{"TableName", table_},
                       {"Key", image_key(id)},
                       {"UpdateExpression", "SET GSI1PK = :dpk, GSI1SK = :sk"},
                       {"ConditionExpression", "#s = :deleting AND attribute_not_exists(GSI1PK)"},
                       {"ExpressionAttributeNames", {{"#s", "state"}}},
                       {"ExpressionAttributeValues",
                        {{":deleting", S("deleting")},
                         {":dpk", S(deleting_pk(cur->user_id))},
                         {":sk", S(uploaded_sk(cur->uploaded_at_ms, cur->id))}}}});
      return cur;
    }
    if (auto now = mark_if_unchanged(*cur, events)) return now;
  }
  throw Error(ErrorCode::StorageFailed, "image kept changing while it was being deleted");
}

std::optional<ImageRecord> DynamoDbMetadataStore::mark_deleting_seen(const ImageRecord& seen,
                                                                     const domain::Events& events) {
  if (seen.state == ImageState::Active)
    if (auto now = mark_if_unchanged(seen, events)) return now;
  return mark_deleting(seen.id, events);
}

bool DynamoDbMetadataStore::remove_if_unchanged(const ImageRecord& cur) {
  bool active = cur.state == ImageState::Active;
  auto r = db_.call(
      "DeleteItem",
      json::object{{"TableName", table_},
                   {"Key", image_key(cur.id)},
                   // Events still in the item go to the outbox first (below), not with it.
                   {"ConditionExpression", "#v = :v AND #s = :s AND attribute_not_exists(obx)"},
                   {"ExpressionAttributeNames", {{"#v", "version"}, {"#s", "state"}}},
                   {"ExpressionAttributeValues",
                    {{":v", N(cur.version)}, {":s", S(active ? "active" : "deleting")}}},
                   // The item removed names the claims to release (no read before).
                   {"ReturnValues", "ALL_OLD"}});
  if (r.ok) {
    auto* old_item = r.body.as_object().if_contains("Attributes");
    ImageRecord old = old_item && old_item->is_object() ? from_item(old_item->as_object()) : cur;
    if (active) account(old, -1);
    claims_.release(old);  // after the record: a crash in between leaves a stale claim only
    return true;
  }
  if (r.error_type != kConditionFailed)
    throw Error(ErrorCode::StorageFailed, "dynamodb DeleteItem failed: " + r.error_type);
  relay_pending(cur.id);
  return false;
}

bool DynamoDbMetadataStore::remove(const std::string& id) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto cur = get(id);
    if (!cur) return false;
    if (remove_if_unchanged(*cur)) return true;
  }
  throw Error(ErrorCode::StorageFailed, "image kept changing while it was being removed");
}

bool DynamoDbMetadataStore::remove_seen(const ImageRecord& seen) {
  return remove_if_unchanged(seen) || remove(seen.id);
}

domain::ListPage DynamoDbMetadataStore::list(const domain::ListQuery& q) {
  if (q.state == ImageState::Active) return query_list(q, false);
  domain::ListQuery plain;
  plain.user_id = q.user_id;
  plain.ascending = q.ascending;
  plain.limit = q.limit;
  plain.after = q.after;
  return query_list(plain, true);
}

int64_t DynamoDbMetadataStore::count_deleting(const std::string& user_id) {
  // The index is eventually consistent: what it lists is confirmed with consistent reads, so a
  // record removed a moment ago is not counted as remaining.
  json::object req{{"TableName", table_},
                   {"IndexName", "UserIndex"},
                   {"KeyConditionExpression", "GSI1PK = :pk"},
                   {"ProjectionExpression", "PK, SK"},
                   {"ExpressionAttributeValues", {{":pk", S(deleting_pk(user_id))}}}};
  std::vector<json::object> keys;
  for (;;) {
    auto body = db_.must("Query", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array())
      for (const auto& it : items->as_array())
        keys.push_back(json::object{{"PK", it.at("PK")}, {"SK", it.at("SK")}});
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) break;
    req["ExclusiveStartKey"] = *last;
  }
  int64_t n = 0;
  dynamo::Caller call = [this](std::string_view op, const json::value& r) {
    return db_.call(op, r);
  };
  for (const auto& item : dynamo::batch_get(call, table_, keys)) {
    auto rec = from_item(item);
    n += rec.user_id == user_id && rec.state == ImageState::Deleting;
  }
  return n;
}

domain::ListPage DynamoDbMetadataStore::query_list(const domain::ListQuery& q, bool deleting) {
  // The cursor position (uploadedAt, id) is exactly the index sort key of the last item shown,
  // so a page resumes with a key condition strictly past it (equivalent to ExclusiveStartKey,
  // and still right when that item was deleted meanwhile).
  // sortBy=takenAt walks TakenIndex (an album is then a filter, like a tag); duplicatesOf walks
  // HashIndex.
  bool by_hash = q.sha256.has_value() && !deleting;
  bool by_taken = !by_hash && !deleting && q.sort_by == domain::SortBy::TakenAt;
  bool by_album = !by_hash && !by_taken && q.album_id.has_value();
  const char* index = by_hash    ? "HashIndex"
                      : by_taken ? "TakenIndex"
                      : by_album ? "AlbumIndex"
                                 : "UserIndex";
  std::string pk_name = by_hash ? "GSI4PK" : by_taken ? "GSI3PK" : by_album ? "GSI2PK" : "GSI1PK";
  std::string sk_name = by_hash ? "GSI4SK" : by_taken ? "GSI3SK" : by_album ? "GSI2SK" : "GSI1SK";
  json::object names{{"#pk", pk_name}};
  json::object values{{":pk", S(by_hash    ? hash_pk(q.user_id, *q.sha256)
                                : by_album ? album_pk(*q.album_id)
                                : deleting ? deleting_pk(q.user_id)
                                           : user_pk(q.user_id))}};
  std::string key_cond = "#pk = :pk";
  if (q.after) {
    key_cond += std::string(" AND #sk ") + (q.ascending ? ">" : "<") + " :after";
    names["#sk"] = sk_name;
    values[":after"] = S(by_taken ? taken_sk(q.after->uploaded_at_ms, q.after->id)
                                  : uploaded_sk(q.after->uploaded_at_ms, q.after->id));
  } else {
    key_cond += " AND begins_with(#sk, :uploaded)";
    names["#sk"] = sk_name;
    values[":uploaded"] = S(by_taken ? "TAKEN#" : "UPLOADED#");
  }
  std::vector<std::string> filters;
  if (by_album || (by_taken && q.album_id)) {
    filters.push_back("#u = :u");
    names["#u"] = "userId";
    values[":u"] = S(q.user_id);
  }
  if (by_taken && q.album_id) {
    filters.push_back("#al = :al");
    names["#al"] = "albumId";
    values[":al"] = S(*q.album_id);
  }
  if (q.tag && !by_hash) {
    filters.push_back("contains(#tags, :tag)");
    names["#tags"] = "tags";
    values[":tag"] = S(*q.tag);
  }
  json::object req{{"TableName", table_},
                   {"IndexName", index},
                   {"KeyConditionExpression", key_cond},
                   {"ScanIndexForward", q.ascending},
                   {"Limit", filters.empty() ? q.limit + 1 : std::max(100, q.limit + 1)}};
  if (!filters.empty()) {
    std::string f;
    for (const auto& part : filters) f += (f.empty() ? "" : " AND ") + part;
    req["FilterExpression"] = f;
  }
  req["ExpressionAttributeNames"] = std::move(names);
  req["ExpressionAttributeValues"] = std::move(values);

  domain::ListPage page;
  for (;;) {
    auto body = db_.must("Query", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array()) {
      for (const auto& it : items->as_array()) {
        auto rec = from_item(it.as_object());
        if (rec.state != (deleting ? ImageState::Deleting : ImageState::Active)) continue;
        if (int(page.items.size()) == q.limit) {
          page.has_more = true;
          return page;
        }
        page.items.push_back(std::move(rec));
      }
    }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) return page;
    req["ExclusiveStartKey"] = *last;
  }
}

int64_t DynamoDbMetadataStore::count(const domain::ListQuery& q) {
  if (q.state == ImageState::Deleting) return count_deleting(q.user_id);
  if (q.sha256) {  // a user's copies of one file: few items, counted on HashIndex
    json::object req{{"TableName", table_},
                     {"IndexName", "HashIndex"},
                     {"KeyConditionExpression", "GSI4PK = :pk"},
                     {"Select", "COUNT"},
                     {"ExpressionAttributeValues", {{":pk", S(hash_pk(q.user_id, *q.sha256))}}}};
    int64_t n = 0;
    for (;;) {
      auto body = db_.must("Query", req);
      const auto& o = body.as_object();
      n += num_attr_plain(o, "Count");
      auto* last = o.if_contains("LastEvaluatedKey");
      if (!last || !last->is_object()) return n;
      req["ExclusiveStartKey"] = *last;
    }
  }
  auto cell = count_cell(q.user_id, q.album_id, q.tag);
  auto body = db_.must("GetItem", json::object{{"TableName", table_},
                                               {"Key", {{"PK", S(cell.pk)}, {"SK", S(cell.sk)}}},
                                               {"ConsistentRead", true}});
  auto* item = body.as_object().if_contains("Item");
  if (!item || !item->is_object()) return 0;
  return num_attr(item->as_object(), "n").value_or(0);
}

domain::StoreStats DynamoDbMetadataStore::stats(int64_t since_ms) {
  // The sum of every global shard (and of the unsharded item of older tables): one Query of a few
  // dozen small items.
  json::object req{{"TableName", table_},
                   {"KeyConditionExpression", "PK = :g"},
                   {"ExpressionAttributeValues", {{":g", S(kGlobalPk)}}},
                   {"ConsistentRead", true}};
  domain::StoreStats st;
  std::string first_day = day_attribute(since_ms);
  for (;;) {
    auto body = db_.must("Query", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array()) {
      for (const auto& it : items->as_array()) {
        const auto& item = it.as_object();
        auto num = [&](std::string_view k) { return num_attr(item, k).value_or(0); };
        for (const auto& [k, v] : item) {
          if (k == "n") st.total_images += num(k);
          if (k == "bytes") st.total_bytes += num(k);
          if (k.starts_with("d:") && std::string(k) >= first_day) st.uploaded_since += num(k);
        }
      }
    }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) return st;
    req["ExclusiveStartKey"] = *last;
  }
}

void DynamoDbMetadataStore::scan(const std::function<bool(const ImageRecord&)>& visit) {
  // Images only: upload and idempotency records share the table.
  json::object req{
      {"TableName", table_},
      {"FilterExpression", "#sk = :meta AND begins_with(#pk, :image)"},
      {"ExpressionAttributeNames", {{"#sk", "SK"}, {"#pk", "PK"}}},
      {"ExpressionAttributeValues", {{":meta", S("METADATA")}, {":image", S("IMAGE#")}}}};
  for (;;) {
    auto body = db_.must("Scan", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array())
      for (const auto& it : items->as_array())
        if (!visit(from_item(it.as_object()))) return;
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) return;
    req["ExclusiveStartKey"] = *last;
  }
}

bool DynamoDbMetadataStore::healthy() {
  try {
    return db_.call("DescribeTable", json::object{{"TableName", table_}}).ok;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace isvc::storage
