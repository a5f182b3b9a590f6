// `image-service provision` for the DynamoDB table: idempotent, and honest about what the
// endpoint cannot do (dynalite has no TTL or backup API).
#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "domain/model/error.h"
#include "storage/dynamodb_item.h"
#include "storage/dynamodb_metadata_store.h"

namespace isvc::storage {

namespace json = boost::json;

namespace {

json::object key_schema_entry(const char* name, const char* type) {
  return {{"AttributeName", name}, {"KeyType", type}};
}

json::object gsi(const char* name, const char* pk, const char* sk) {
  return {{"IndexName", name},
          {"KeySchema", json::array{key_schema_entry(pk, "HASH"), key_schema_entry(sk, "RANGE")}},
          {"Projection", {{"ProjectionType", "ALL"}}}};
}

std::string table_status(aws::DynamoDbClient& db, const std::string& table, bool& exists) {
  auto r = db.call("DescribeTable", json::object{{"TableName", table}});
  exists = r.ok;
  if (!r.ok) {
    if (r.error_type == "ResourceNotFoundException") return "";
    throw domain::Error(domain::ErrorCode::StorageFailed,
                        "DescribeTable failed: " + r.error_type + " " + r.message);
  }
  return std::string(r.body.at("Table").at("TableStatus").as_string());
}

// Indexes newer than the table's first layout, added to a table that lacks them (one UpdateTable
// each: DynamoDB creates one index at a time), each waited for until ACTIVE.
struct LaterIndex {
  const char* name;
  const char* pk;
  const char* sk;
  const char* purpose;
};
constexpr int kIndexWaitPolls = 1200;  // 100 ms each: two minutes per index

constexpr LaterIndex kLaterIndexes[] = {
    {"TakenIndex", "GSI3PK", "GSI3SK", "sortBy=takenAt"},
    {"HashIndex", "GSI4PK", "GSI4SK", "duplicatesOf"},
};

std::string index_status(aws::DynamoDbClient& db, const std::string& table, const char* name) {
  auto r = db.call("DescribeTable", json::object{{"TableName", table}});
  if (!r.ok) return "";
  auto* gsis = r.body.at("Table").as_object().if_contains("GlobalSecondaryIndexes");
  if (!gsis || !gsis->is_array()) return "";
  for (const auto& g : gsis->as_array()) {
    const auto& o = g.as_object();
    if (o.at("IndexName").as_string() != name) continue;
    auto* st = o.if_contains("IndexStatus");
    return st && st->is_string() ? std::string(st->as_string()) : "ACTIVE";
  }
  return "";
}

void add_later_indexes(aws::DynamoDbClient& db, const std::string& table,
                       std::vector<std::string>& report) {
  for (const auto& ix : kLaterIndexes) {
    if (auto st = index_status(db, table, ix.name); !st.empty()) {
      report.push_back(std::string("dynamodb index ") + ix.name +
                       (st == "ACTIVE" ? ": exists" : ": exists, still " + st));
      continue;
    }
    json::object req{
        {"TableName", table},
        {"AttributeDefinitions", json::array{{{"AttributeName", ix.pk}, {"AttributeType", "S"}},
                                             {{"AttributeName", ix.sk}, {"AttributeType", "S"}}}},
        {"GlobalSecondaryIndexUpdates", json::array{{{"Create", gsi(ix.name, ix.pk, ix.sk)}}}}};
    auto r = db.call("UpdateTable", req);
    if (!r.ok && r.message.find("provisionedThroughput") != std::string::npos) {
      // dynalite predates on-demand tables for index creation and insists on a throughput,
      // which AWS refuses for a PAY_PER_REQUEST table: given only to an engine that asks.
      auto create = gsi(ix.name, ix.pk, ix.sk);
      create["ProvisionedThroughput"] = {{"ReadCapacityUnits", 5}, {"WriteCapacityUnits", 5}};
      req["GlobalSecondaryIndexUpdates"] = json::array{{{"Create", std::move(create)}}};
      r = db.call("UpdateTable", req);
    }
    if (!r.ok &&
        (r.error_type == "LimitExceededException" || r.error_type == "ResourceInUseException")) {
      report.push_back(std::string("dynamodb index ") + ix.name + ": not added yet (" +
                       r.error_type + ": another index is being built); run provision again");
      continue;
    }
    if (!r.ok)
      throw domain::Error(domain::ErrorCode::StorageFailed,
                          std::string("UpdateTable adding ") + ix.name +
                              " failed: " + r.error_type + " " + r.message);
    // AWS backfills a new index in the background (minutes on a large table): a bounded wait,
    // then the report says it is still being built and `provision` can be run again. An engine
    // that accepts the call but adds no index (dynalite ignores `Create`) is reported too.
    std::string st;
    for (int i = 0; i < kIndexWaitPolls; ++i) {
      st = index_status(db, table, ix.name);
      if (st == "ACTIVE" || st.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (st.empty()) {
      report.push_back(std::string("dynamodb index ") + ix.name +
                       ": NOT SUPPORTED by this endpoint (UpdateTable added no index); " +
                       ix.purpose + " fails on this table until it is recreated");
      continue;
    }
    if (st != "ACTIVE") {
      report.push_back(std::string("dynamodb index ") + ix.name + " (" + ix.purpose +
                       "): added, still " + st + " (being built; " + ix.purpose +
                       " answers once it is ACTIVE; run provision again to check)");
      continue;
    }
    report.push_back(std::string("dynamodb index ") + ix.name + " (" + ix.purpose +
                     "): added to the existing table");
  }
}

// Active images written before TakenIndex/HashIndex have no GSI3/GSI4 attributes, so they are in
// neither index: each gets them, on the condition that it is unchanged (a write since then set
// them already). Returns how many were indexed.
int64_t index_old_images(aws::DynamoDbClient& db, const std::string& table) {
  using namespace dynamo;
  json::object req{{"TableName", table},
                   {"FilterExpression",
                    "#sk = :meta AND begins_with(#pk, :image) AND #s = :active AND "
                    "attribute_not_exists(GSI3PK)"},
                   {"ExpressionAttributeNames", {{"#sk", "SK"}, {"#pk", "PK"}, {"#s", "state"}}},
                   {"ExpressionAttributeValues",
                    {{":meta", S("METADATA")}, {":image", S("IMAGE#")}, {":active", S("active")}}}};
  int64_t n = 0;
  for (;;) {
    auto body = db.must("Scan", req);
    const auto& o = body.as_object();
    if (auto* items = o.if_contains("Items"); items && items->is_array()) {
      for (const auto& it : items->as_array()) {
        auto rec = from_item(it.as_object());
        auto full = to_item(rec);
        std::string expr = "SET GSI3PK = :p3, GSI3SK = :s3";
        json::object values{{":p3", full.at("GSI3PK")},
                            {":s3", full.at("GSI3SK")},
                            {":v", N(rec.version)},
                            {":active", S("active")}};
        if (full.contains("GSI4PK")) {
          expr += ", GSI4PK = :p4, GSI4SK = :s4";
          values[":p4"] = full.at("GSI4PK");
          values[":s4"] = full.at("GSI4SK");
        }
        auto r =
            db.call("UpdateItem",
                    json::object{{"TableName", table},
                                 {"Key", {{"PK", it.at("PK")}, {"SK", it.at("SK")}}},
                                 {"UpdateExpression", expr},
                                 {"ConditionExpression", "#s = :active AND #v = :v"},
                                 {"ExpressionAttributeNames", {{"#s", "state"}, {"#v", "version"}}},
                                 {"ExpressionAttributeValues", std::move(values)}});
        if (r.ok)
          ++n;
        else if (r.error_type != "ConditionalCheckFailedException")
          throw domain::Error(domain::ErrorCode::StorageFailed,
                              "UpdateItem indexing an older image failed: " + r.error_type);
      }
    }
    auto* last = o.if_contains("LastEvaluatedKey");
    if (!last || !last->is_object()) return n;
    req["ExclusiveStartKey"] = *last;
  }
}

bool unsupported(const aws::DynamoResult& r) {
  return r.error_type == "UnknownOperationException" || r.error_type == "NotImplemented" ||
         r.error_type.find("Unsupported") != std::string::npos;
}

}  // namespace

std::vector<std::string> DynamoDbMetadataStore::provision(aws::DynamoDbClient& db,
                                                          const std::string& table) {
  std::vector<std::string> report;
  bool exists = false;
  table_status(db, table, exists);
  bool existed = exists;
  if (exists) {
    report.push_back("dynamodb table " + table + ": exists, left as it is");
  } else {
    json::array attrs;
    for (const char* a : {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK",
                          "GSI4PK", "GSI4SK"})
      attrs.push_back({{"AttributeName", a}, {"AttributeType", "S"}});
    json::object req{
        {"TableName", table},
        {"BillingMode", "PAY_PER_REQUEST"},
        {"AttributeDefinitions", std::move(attrs)},
        {"KeySchema", json::array{key_schema_entry("PK", "HASH"), key_schema_entry("SK", "RANGE")}},
        {"GlobalSecondaryIndexes",
         json::array{gsi("UserIndex", "GSI1PK", "GSI1SK"), gsi("AlbumIndex", "GSI2PK", "GSI2SK"),
                     gsi("TakenIndex", "GSI3PK", "GSI3SK"), gsi("HashIndex", "GSI4PK", "GSI4SK")}}};
    auto r = db.call("CreateTable", req);
    if (!r.ok && r.error_type != "ResourceInUseException")
      throw domain::Error(domain::ErrorCode::StorageFailed,
                          "CreateTable " + table + " failed: " + r.error_type + " " + r.message);
    report.push_back("dynamodb table " + table +
                     ": created (PK/SK, GSIs UserIndex, AlbumIndex, TakenIndex and HashIndex with "
                     "projection ALL, "
                     "on-demand billing)");
  }
  // A new table takes a moment to become ACTIVE on AWS; poll its status (bounded).
  for (int i = 0; i < 600; ++i) {
    if (table_status(db, table, exists) == "ACTIVE") break;
    if (i == 599)
      throw domain::Error(domain::ErrorCode::StorageFailed,
                          "table " + table + " never became ACTIVE");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  if (existed) {
    add_later_indexes(db, table, report);
    report.push_back("dynamodb images written before TakenIndex/HashIndex: " +
                     std::to_string(index_old_images(db, table)) + " indexed now");
  }

  auto ttl = db.call(
      "UpdateTimeToLive",
      json::object{{"TableName", table},
                   {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "ttl"}}}});
  if (ttl.ok)
    report.push_back("dynamodb TTL on attribute ttl: enabled");
  else if (ttl.message.find("already enabled") != std::string::npos)
    report.push_back("dynamodb TTL on attribute ttl: already enabled");
  else if (unsupported(ttl))
    report.push_back("dynamodb TTL: NOT SUPPORTED by this endpoint (" + ttl.error_type +
                     "); expired temporary items are still ignored on read and removed by fsck");
  else
    report.push_back("dynamodb TTL: not enabled: " + ttl.error_type + " " + ttl.message);

  auto pitr = db.call(
      "UpdateContinuousBackups",
      json::object{{"TableName", table},
                   {"PointInTimeRecoverySpecification", {{"PointInTimeRecoveryEnabled", true}}}});
  if (pitr.ok)
    report.push_back("dynamodb point-in-time recovery: enabled");
  else if (unsupported(pitr))
    report.push_back("dynamodb point-in-time recovery: NOT SUPPORTED by this endpoint (" +
                     pitr.error_type + ")");
  else
    report.push_back("dynamodb point-in-time recovery: not enabled: " + pitr.error_type + " " +
                     pitr.message);
  return report;
}

}  // namespace isvc::storage
