// `image-service provision` for the DynamoDB table: idempotent, and honest about what the
// endpoint cannot do (dynalite has no TTL or backup API).
#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "domain/model/error.h"
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
  if (exists) {
    report.push_back("dynamodb table " + table + ": exists, left as it is");
  } else {
    json::array attrs;
    for (const char* a : {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"})
      attrs.push_back({{"AttributeName", a}, {"AttributeType", "S"}});
    json::object req{
        {"TableName", table},
        {"BillingMode", "PAY_PER_REQUEST"},
        {"AttributeDefinitions", std::move(attrs)},
        {"KeySchema", json::array{key_schema_entry("PK", "HASH"), key_schema_entry("SK", "RANGE")}},
        {"GlobalSecondaryIndexes",
         json::array{gsi("UserIndex", "GSI1PK", "GSI1SK"), gsi("AlbumIndex", "GSI2PK", "GSI2SK")}}};
    auto r = db.call("CreateTable", req);
    if (!r.ok && r.error_type != "ResourceInUseException")
      throw domain::Error(domain::ErrorCode::StorageFailed,
                          "CreateTable " + table + " failed: " + r.error_type + " " + r.message);
    report.push_back("dynamodb table " + table +
                     ": created (PK/SK, GSIs UserIndex and AlbumIndex with projection ALL, "
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
