// The DynamoDB item layout of SPEC §7 and the conversion between it and domain::ImageRecord.
//   image:   PK=IMAGE#{id}  SK=METADATA, GSI1PK=USER#{userId} GSI1SK=UPLOADED#{uploadedAt}#{id}
//            and (album set) GSI2PK=ALBUM#{albumId} GSI2SK=UPLOADED#…, while the image is active.
//            A deleting image moves to GSI1PK=DELETING#USER#{userId} (same GSI1SK) and leaves the
//            album index: out of every list, yet still found by the erasure (list_deleting).
//   claim:   PK=OBJECTKEY#{key} SK=CLAIM (dynamodb_key_claims.h).
//   counter: PK=COUNTER#USER#{userId} SK=ALL | ALBUM#{a} | TAG#{t} | ALBUMTAG#{len(a)}#{a}#{t};
//            PK=COUNTER#GLOBAL SK=SHARD#{00..31} (n, bytes, d:{YYYY-MM-DD} per upload day), the
//            image's shard chosen by its id; the figures are the sum of every item under the PK
//            (a table from before the shards also has SK=ALL, which still counts).
//   webhook outbox: PK=WHK#{target}#{00..07} by order key, WHKPARKED#{target}
//   (dynamodb_outbox.cpp).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/model/image_record.h"
#include "domain/ports/event_outbox.h"

namespace isvc::storage::dynamo {

boost::json::object S(const std::string& s);
boost::json::object N(int64_t n);

std::string image_pk(const std::string& id);
std::string user_pk(const std::string& user_id);
std::string deleting_pk(const std::string& user_id);
std::string album_pk(const std::string& album_id);
std::string uploaded_sk(int64_t uploaded_at_ms, const std::string& id);
std::string taken_sk(int64_t taken_sort_key, const std::string& id);
std::string hash_pk(const std::string& user_id, const std::string& sha256);

// An attribute of an item read as a string (S) or a number (N): nullopt when absent; throws
// domain::Error(StorageFailed) when it has another shape.
std::optional<std::string> str_attr(const boost::json::object& item, std::string_view name);
std::optional<int64_t> num_attr(const boost::json::object& item, std::string_view name);

// The full item for a record (with index keys when it is active).
boost::json::object to_item(const domain::ImageRecord& r);
// Throws domain::Error(StorageFailed) when a required attribute is missing or malformed.
domain::ImageRecord from_item(const boost::json::object& item);

// One counter cell: the item key and the attribute to add to.
struct CounterCell {
  std::string pk, sk;
  bool operator<(const CounterCell& o) const { return pk != o.pk ? pk < o.pk : sk < o.sk; }
  bool operator==(const CounterCell&) const = default;
};
// The per-user cells an active record counts in.
std::vector<CounterCell> user_cells(const domain::ImageRecord& r);
CounterCell count_cell(const std::string& user_id, const std::optional<std::string>& album,
                       const std::optional<std::string>& tag);
inline constexpr const char* kGlobalPk = "COUNTER#GLOBAL";
// The global figures are split over this many items so that no single item is written by every
// upload (DynamoDB serves about 1,000 writes/s per item): the cap becomes ~32,000 uploads/s.
inline constexpr int kGlobalShards = 32;
// The global counter item an image counts in: "SHARD#07", a hash of the id, so that its insert and
// its delete move the same item and fsck can compare item by item.
std::string global_shard_sk(const std::string& image_id);
std::string day_attribute(int64_t unix_ms);  // "d:2026-11-24"

// The record item's "obx" attribute: webhook events written with the record (dynamodb_outbox.cpp).
boost::json::object outbox_attribute(const std::vector<domain::OutboxEvent>& events);

// A target's webhook outbox is split over this many partitions so that no partition is written
// by every change (~1,000 writes/s each): ~8,000 events/s per target, past the table quota.
inline constexpr int kOutboxShards = 8;
// The partition of an order key (the image id): FNV-1a of its bytes modulo kOutboxShards, the
// same in every build, so that every event of one image lands in one partition, in order.
int outbox_shard(const std::string& order_key);
std::string outbox_shard_pk(const std::string& target, int shard);  // "WHK#{target}#03"
std::string outbox_pk(const std::string& target, const std::string& order_key);
// The one partition per target of builds before the shards, still read by claims.
std::string outbox_legacy_pk(const std::string& target);  // "WHK#{target}"

}  // namespace isvc::storage::dynamo
