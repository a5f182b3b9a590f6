// DynamoDbMetadataStore::check_counters: every counter cell recomputed from the active images in
// one scan, compared with the stored cells, and (repair) corrected with conditional writes. The
// global figures are compared as sums (what stats() reports); a repair rewrites each shard to
// what its images make, and an unsharded item from an older table to zero.
#include <boost/json.hpp>
#include <map>
#include <set>

#include "domain/model/error.h"
#include "storage/dynamodb_batch.h"
#include "storage/dynamodb_item.h"
#include "storage/dynamodb_metadata_store.h"

namespace isvc::storage {

namespace json = boost::json;
using domain::ImageRecord;
using domain::ImageState;
using namespace dynamo;

int64_t DynamoDbMetadataStore::check_counters(bool repair) {
  // One scan: expected values from the active images, stored values from the counter items.
  std::map<CounterCell, int64_t> expected, stored;
  // Global figures by (shard SK, attribute): n, bytes, d:YYYY-MM-DD.
  using ShardAttr = std::pair<std::string, std::string>;
  std::map<ShardAttr, int64_t> expected_global, stored_global;
  json::object req{{"TableName", table_}};
  for (;;) {
    auto body = db_.must("Scan", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array()) {
      for (const auto& it : items->as_array()) {
        const auto& item = it.as_object();
        std::string pk(item.at("PK").at("S").as_string());
        std::string sk(item.at("SK").at("S").as_string());
        if (pk.starts_with("IMAGE#")) {
          auto r = from_item(item);
          if (r.state != ImageState::Active) continue;
          for (const auto& c : user_cells(r)) ++expected[c];
          auto shard = global_shard_sk(r.id);
          expected_global[{shard, "n"}] += 1;
          expected_global[{shard, "bytes"}] += r.processed_size + r.thumbnail_size;
          expected_global[{shard, day_attribute(r.uploaded_at_ms)}] += 1;
        } else if (pk == kGlobalPk) {
          for (const auto& [k, v] : item)
            if (k == "n" || k == "bytes" || k.starts_with("d:"))
              stored_global[{sk, std::string(k)}] = num_attr(item, k).value_or(0);
        } else if (pk.starts_with("COUNTER#USER#")) {
          if (auto n = num_attr(item, "n")) stored[{pk, sk}] = *n;
        }
      }
    }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) break;
    req["ExclusiveStartKey"] = *last;
  }

  // Sets one counter attribute to its expected value, unless it moved since the scan.
  auto fix = [&](const std::string& pk, const std::string& sk, const std::string& attr,
                 std::optional<int64_t> seen, int64_t want) {
    json::object values{{":want", N(want)}};
    std::string cond = "attribute_not_exists(#a)";
    if (seen) {
      cond = "#a = :seen";
      values[":seen"] = N(*seen);
    }
    db_.call("UpdateItem", json::object{{"TableName", table_},
                                        {"Key", {{"PK", S(pk)}, {"SK", S(sk)}}},
                                        {"UpdateExpression", "SET #a = :want"},
                                        {"ConditionExpression", cond},
                                        {"ExpressionAttributeNames", {{"#a", attr}}},
                                        {"ExpressionAttributeValues", std::move(values)}});
  };
  auto opt = [](const auto& m, const auto& k) -> std::optional<int64_t> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
  int64_t wrong = 0;
  std::set<CounterCell> cells;
  for (const auto& [c, v] : expected) cells.insert(c);
  for (const auto& [c, v] : stored) cells.insert(c);
  // Cells with no item yet (all of them after a batched import) are created 25 per batch
  // write; a condition would not make them safer: an ADD racing with the scan leaves drift for
  // the next fsck either way.
  std::vector<json::object> missing;
  for (const auto& c : cells) {
    auto want = opt(expected, c).value_or(0);
    auto have = opt(stored, c);
    if (have.value_or(0) == want) continue;
    ++wrong;
    if (!repair) continue;
    if (have)
      fix(c.pk, c.sk, "n", have, want);
    else
      missing.push_back(json::object{{"PK", S(c.pk)}, {"SK", S(c.sk)}, {"n", N(want)}});
  }
  dynamo::batch_put(
      [this](std::string_view op, const json::value& req) { return db_.call(op, req); }, table_,
      missing);
  std::map<std::string, int64_t> expected_sum, stored_sum;
  std::set<ShardAttr> shard_attrs;
  for (const auto& [sa, v] : expected_global) expected_sum[sa.second] += v, shard_attrs.insert(sa);
  for (const auto& [sa, v] : stored_global) stored_sum[sa.second] += v, shard_attrs.insert(sa);
  std::set<std::string> wrong_attrs;
  for (const auto& sa : shard_attrs)
    if (opt(stored_sum, sa.second).value_or(0) != opt(expected_sum, sa.second).value_or(0))
      wrong_attrs.insert(sa.second);
  wrong += int64_t(wrong_attrs.size());
  if (repair)
    for (const auto& sa : shard_attrs) {
      if (!wrong_attrs.contains(sa.second)) continue;
      auto want = opt(expected_global, sa).value_or(0);
      auto have = opt(stored_global, sa);
      if (have.value_or(0) != want) fix(kGlobalPk, sa.first, sa.second, have, want);
    }
  return wrong;
}

}  // namespace isvc::storage
