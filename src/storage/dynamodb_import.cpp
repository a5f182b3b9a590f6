// DynamoDbMetadataStore::import_batch: the migration's batched path (BatchGetItem of the ids and
// of the new records' key claims, BatchWriteItem of claims then records) around the per-record one.
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "domain/model/error.h"
#include "storage/dynamodb_batch.h"
#include "storage/dynamodb_item.h"
#include "storage/dynamodb_metadata_store.h"
#include "storage/key_ownership.h"

namespace isvc::storage {

namespace json = boost::json;
using domain::Error;
using domain::ErrorCode;
using domain::ImageRecord;
using domain::ImageState;
using domain::ImportOutcome;
using namespace dynamo;

namespace {
json::object image_key(const std::string& id) {
  return {{"PK", S(image_pk(id))}, {"SK", S("METADATA")}};
}
}  // namespace

std::vector<domain::ImportOutcome> DynamoDbMetadataStore::import_batch(
    const std::vector<ImageRecord>& records) {
  using domain::ImportOutcome;
  dynamo::Caller call = [this](std::string_view op, const json::value& req) {
    return db_.call(op, req);
  };
  std::vector<json::object> keys;
  std::set<std::string> ids;
  for (const auto& r : records)
    if (ids.insert(r.id).second) keys.push_back(image_key(r.id));
  std::map<std::string, ImageRecord> current;
  for (const auto& item : dynamo::batch_get(call, table_, keys)) {
    auto rec = from_item(item);
    current.emplace(rec.id, std::move(rec));
  }

  std::vector<ImportOutcome> out(records.size(), ImportOutcome::Unchanged);
  std::vector<std::size_t> fresh;  // ids not in the table, first occurrence in the batch
  std::vector<std::size_t> later;  // the conditional per-record path
  std::set<std::string> creating;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    auto it = current.find(r.id);
    if (it == current.end()) {
      if (creating.insert(r.id).second)
        fresh.push_back(i);
      else
        later.push_back(i);  // a repeated id: judged against the first once it is written
    } else if (it->second.user_id != r.user_id) {
      out[i] = ImportOutcome::OwnerConflict;
    } else if (it->second.state == ImageState::Active &&
               r.updated_at_ms > it->second.updated_at_ms) {
      later.push_back(i);
    }
  }

  // The key claims of the new records, read in one BatchGetItem per 100 keys.
  std::vector<json::object> claim_keys;
  std::set<std::string> seen;
  for (auto i : fresh)
    for (const auto& k : keys_to_check(records[i]))
      if (!k.foreign_folder && seen.insert(k.key).second)
        claim_keys.push_back(dynamo::claim_item_key(k.key));
  std::map<std::string, dynamo::KeyClaim> held;
  for (const auto& item : dynamo::batch_get(call, table_, claim_keys))
    if (auto c = dynamo::claim_from_item(item)) held.emplace(c->key, std::move(*c));

  std::map<std::string, dynamo::KeyClaim> claims;  // to write: new, or extended by this batch
  std::vector<json::object> creates;
  for (auto i : fresh) {
    const auto& r = records[i];
    bool conflict = false, contested = false;
    for (const auto& k : keys_to_check(r)) {
      if (k.foreign_folder) conflict = true;
      if (auto w = claims.find(k.key); w != claims.end() && w->second.user_id != r.user_id)
        conflict = true;  // an earlier record of this batch, another user
      if (auto h = held.find(k.key); h != held.end() && h->second.user_id != r.user_id)
        contested = true;  // genuine or stale: the per-record path finds out
    }
    if (conflict) {
      out[i] = ImportOutcome::KeyConflict;
      continue;
    }
    if (contested) {
      later.push_back(i);
      continue;
    }
    for (const auto& k : keys_to_check(r)) {
      auto [w, added] = claims.try_emplace(k.key);
      if (added) {
        auto h = held.find(k.key);
        w->second = h != held.end() ? h->second : dynamo::KeyClaim{k.key, r.user_id, {}, 0};
      }
      w->second.image_ids.insert(r.id);
      ++w->second.rev;
    }
    creates.push_back(to_item(r));
    out[i] = ImportOutcome::Created;
  }
  // Claims before images, as in insert(): a crash in between leaves stale claims only.
  std::vector<json::object> claim_items;
  for (const auto& [k, c] : claims) claim_items.push_back(dynamo::claim_to_item(c));
  dynamo::batch_put(call, table_, claim_items);
  dynamo::batch_put(call, table_, creates);
  std::sort(later.begin(), later.end());
  for (auto i : later) out[i] = import_one(records[i]);
  return out;
}

// The per-record path of import_batch, with the port's semantics, on the conditional writes.
ImportOutcome DynamoDbMetadataStore::import_one(const ImageRecord& rec) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto cur = get(rec.id);
    if (cur && cur->user_id != rec.user_id) return ImportOutcome::OwnerConflict;
    if (!cur) {
      auto w = insert(rec);
      if (w.ok()) return ImportOutcome::Created;
      if (w.kind == domain::WriteResult::KeyConflict) return ImportOutcome::KeyConflict;
      continue;  // inserted concurrently: judge against that one
    }
    // A record being deleted is not resurrected; an older or equal copy changes nothing.
    if (cur->state != ImageState::Active || rec.updated_at_ms <= cur->updated_at_ms)
      return ImportOutcome::Unchanged;
    ImageRecord next = rec;
    next.version = cur->version + 1;
    domain::keep_placeholders(*cur, next);
    auto w = update(next, cur->version);
    if (w.ok()) return ImportOutcome::Updated;
    if (w.kind == domain::WriteResult::KeyConflict) return ImportOutcome::KeyConflict;
  }
  throw Error(ErrorCode::Unavailable, "an imported image kept changing; retry");
}

}  // namespace isvc::storage
