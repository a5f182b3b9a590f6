// DynamoDB only, on both engines: a target's webhook outbox is spread over partitions by order key
// (storage/dynamodb_item.h, outbox_shard), and events an earlier build left in the one unsharded
// partition per target (PK=WHK#{target}) are still claimed, settled and kept in order with the
// newer events of their image.
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "aws/dynamodb_client.h"
#include "engine_process.h"
#include "storage/dynamodb_batch.h"
#include "storage/dynamodb_item.h"
#include "storage/dynamodb_metadata_store.h"

namespace isvc::storage {
namespace {

namespace json = boost::json;

aws::DynamoDbClient& client(const std::string& engine) {
  struct Client {
    explicit Client(const std::string& endpoint)
        : aws(http,
              [&] {
                aws::AwsClientSettings s;
                s.endpoint = endpoint;
                s.service = "dynamodb";
                s.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
                return s;
              }()),
          db(aws) {}
    aws::HttpClient http;
    aws::AwsClient aws;
    aws::DynamoDbClient db;
  };
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Client>> clients;
  std::lock_guard lock(mu);
  auto& c = clients[engine];
  if (!c) c = std::make_unique<Client>(testing::EngineProcess::shared(engine).endpoint());
  return c->db;
}

domain::OutboxEvent event(const std::string& id, const std::string& key, int64_t seq) {
  domain::OutboxEvent e;
  e.target = "t";
  e.id = id;
  e.type = "image.updated";
  e.order_key = key;
  e.seq = seq;
  e.created_ms = 1000 + seq;
  e.body = R"({"id":")" + key + R"("})";
  return e;
}

// The item an earlier build wrote for `e`: the same attributes, in the target's one partition.
json::object legacy_item(const domain::OutboxEvent& e) {
  char seq[24];
  std::snprintf(seq, sizeof seq, "%020lld", static_cast<long long>(e.seq));
  auto S = [](const std::string& s) { return json::object{{"S", s}}; };
  auto N = [](int64_t n) { return json::object{{"N", std::to_string(n)}}; };
  return {{"PK", S("WHK#" + e.target)},
          {"SK", S(e.order_key + "#" + seq + "#" + e.id)},
          {"id", S(e.id)},
          {"type", S(e.type)},
          {"orderKey", S(e.order_key)},
          {"seq", N(e.seq)},
          {"createdMs", N(e.created_ms)},
          {"body", S(e.body)},
          {"attempts", N(0)},
          {"nextAt", N(0)},
          {"leaseUntil", N(0)}};
}

std::set<std::string> ids_of(const domain::Events& es) {
  std::set<std::string> out;
  for (const auto& e : es) out.insert(e.id);
  return out;
}

class DynamoDbOutboxShards : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    table = "t-obx-" + std::to_string(::getpid()) + "-" + std::to_string(n_++);
    DynamoDbMetadataStore::provision(db(), table);
    store = std::make_unique<DynamoDbMetadataStore>(db(), table);
  }
  aws::DynamoDbClient& db() { return client(GetParam()); }
  void plant(const std::vector<domain::OutboxEvent>& es) {
    std::vector<json::object> items;
    for (const auto& e : es) items.push_back(legacy_item(e));
    dynamo::batch_put(
        [this](std::string_view op, const json::value& r) { return db().call(op, r); }, table,
        items);
  }
  // The partition keys holding the target's pending events.
  std::map<std::string, std::string> partition_of_event() {
    auto body =
        db().must("Scan", json::object{{"TableName", table},
                                       {"FilterExpression", "begins_with(PK, :p)"},
                                       {"ExpressionAttributeValues", {{":p", {{"S", "WHK#t"}}}}},
                                       {"ConsistentRead", true}});
    std::map<std::string, std::string> out;
    for (const auto& it : body.at("Items").as_array())
      out[std::string(it.at("id").at("S").as_string())] =
          std::string(it.at("PK").at("S").as_string());
    return out;
  }
  std::string table;
  std::unique_ptr<DynamoDbMetadataStore> store;
  static inline int n_ = 0;
};

TEST_P(DynamoDbOutboxShards, EventsGoToTheShardOfTheirOrderKey) {
  domain::Events es;
  for (int i = 0; i < 40; ++i)
    es.push_back(event("msg_" + std::to_string(i), "img-" + std::to_string(i), 1));
  store->append_events(es);
  auto where = partition_of_event();
  ASSERT_EQ(where.size(), 40u);
  std::set<std::string> used;
  for (const auto& e : es) {
    EXPECT_EQ(where[e.id], dynamo::outbox_pk("t", e.order_key)) << e.id;
    used.insert(where[e.id]);
  }
  EXPECT_EQ(used.size(), std::size_t(dynamo::kOutboxShards));  // 40 keys reach all 8
  EXPECT_EQ(store->pending_events("t"), 40);
  // Claimed across every shard, oldest first, each once.
  std::set<std::string> claimed;
  for (int round = 0; round < 10 && claimed.size() < 40; ++round)
    for (const auto& e : store->claim_events("t", "a", 5000, 6000, 8)) {
      EXPECT_TRUE(claimed.insert(e.id).second) << e.id;
      EXPECT_TRUE(store->ack_event(e, "a"));
    }
  EXPECT_EQ(claimed.size(), 40u);
  EXPECT_EQ(store->pending_events("t"), 0);
}

TEST_P(DynamoDbOutboxShards, AnUnshardedBacklogOfAnEarlierBuildIsDeliveredAndKeepsOrder) {
  // Left by an earlier build: img-a's first event and img-z's only one.
  plant({event("msg_a1", "img-a", 1), event("msg_z1", "img-z", 1)});
  // Written by this build: img-a's next event, and another image.
  store->append_events({event("msg_a2", "img-a", 2), event("msg_b1", "img-b", 1)});
  EXPECT_EQ(store->pending_events("t"), 4);
  auto first = store->claim_events("t", "a", 5000, 6000, 10);
  // msg_a2 waits behind msg_a1, although they sit in different partitions.
  EXPECT_EQ(ids_of(first), (std::set<std::string>{"msg_a1", "msg_z1", "msg_b1"}));
  for (const auto& e : first) {
    if (e.id == "msg_a1") {
      EXPECT_TRUE(store->ack_event(e, "a"));
    }
    if (e.id == "msg_b1") {
      EXPECT_TRUE(store->ack_event(e, "a"));
    }
    if (e.id == "msg_z1") {
      EXPECT_FALSE(store->ack_event(e, "b"));  // not b's lease, in either layout
      EXPECT_TRUE(store->retry_event(e, "a", 7000));
    }
  }
  auto second = store->claim_events("t", "a", 6500, 7500, 10);  // msg_z1 is due at 7000
  ASSERT_EQ(ids_of(second), (std::set<std::string>{"msg_a2"}));
  EXPECT_TRUE(store->ack_event(second[0], "a"));
  auto z = store->claim_events("t", "a", 8000, 9000, 10);
  ASSERT_EQ(ids_of(z), (std::set<std::string>{"msg_z1"}));
  EXPECT_EQ(z[0].attempts, 1);
  EXPECT_TRUE(store->park_event(z[0], "a", "given up"));
  EXPECT_EQ(store->pending_events("t"), 0);
  EXPECT_EQ(store->parked_events("t"), 1);
  EXPECT_TRUE(partition_of_event().empty());
}

TEST_P(DynamoDbOutboxShards, KeysPastWhatAClaimReadOfTheUnshardedBacklogAreHeldBack) {
  // More legacy events than one claim reads of that partition (about 1,000 / 9 per partition):
  // an image whose older event lies past the part read must not have its newer one sent first.
  std::vector<domain::OutboxEvent> old;
  char key[16];
  for (int i = 0; i < 150; ++i) {
    std::snprintf(key, sizeof key, "k%03d", i);
    old.push_back(event(std::string("msg_old_") + key, key, 1));
  }
  plant(old);
  store->append_events({event("msg_new_k140", "k140", 2), event("msg_new_k005", "k005", 2),
                        event("msg_new_a", "a", 1), event("msg_new_zzz", "zzz", 1)});
  std::set<std::string> sent;
  for (int round = 0; round < 10; ++round) {
    auto got = store->claim_events("t", "a", 5000, 6000, 1000);
    if (got.empty()) break;
    for (const auto& e : got) {
      // Each event only after every older one of its key.
      if (e.id == "msg_new_k140") {
        EXPECT_TRUE(sent.contains("msg_old_k140"));
      }
      if (e.id == "msg_new_k005") {
        EXPECT_TRUE(sent.contains("msg_old_k005"));
      }
      if (e.id == "msg_new_zzz" || e.id == "msg_new_k140") {
        EXPECT_GT(round, 0);  // held back first
      }
      EXPECT_TRUE(sent.insert(e.id).second) << e.id;
      EXPECT_TRUE(store->ack_event(e, "a"));
    }
  }
  EXPECT_EQ(sent.size(), 154u);
  EXPECT_EQ(store->pending_events("t"), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, DynamoDbOutboxShards,
                         ::testing::Values("dynalite", "dynamodb-local"), [](const auto& info) {
                           return info.param == "dynalite" ? std::string("dynalite")
                                                           : std::string("dynamodb_local");
                         });

}  // namespace
}  // namespace isvc::storage
