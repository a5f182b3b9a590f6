// Which partition of a target's webhook outbox an event goes to (storage/dynamodb_item.h): the
// choice is part of the stored layout (events already written must be found by the next build),
// so it is pinned here, and it must spread image ids evenly so that no partition is hot.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "storage/dynamodb_item.h"

namespace isvc::storage::dynamo {
namespace {

TEST(OutboxShard, IsFnv1aOfTheOrderKeyModuloTheShardCount) {
  // Values computed independently (FNV-1a 32-bit, mod 8); the integration test computes the
  // same function in JavaScript.
  EXPECT_EQ(kOutboxShards, 8);
  EXPECT_EQ(outbox_shard("01M8S432TN3DVZ87H0NY96ZM1G"), 2);
  EXPECT_EQ(outbox_shard("01J0000000000000000000AAAA"), 4);
  EXPECT_EQ(outbox_shard("user:ann"), 3);
  EXPECT_EQ(outbox_shard("img"), 4);
  EXPECT_EQ(outbox_shard(""), 5);
}

TEST(OutboxShard, PartitionKeysKeepTheOlderUnshardedOneApart) {
  EXPECT_EQ(outbox_shard_pk("0123456789abcdef", 0), "WHK#0123456789abcdef#00");
  EXPECT_EQ(outbox_shard_pk("0123456789abcdef", 7), "WHK#0123456789abcdef#07");
  EXPECT_EQ(outbox_pk("t", "01M8S432TN3DVZ87H0NY96ZM1G"), "WHK#t#02");
  EXPECT_EQ(outbox_legacy_pk("0123456789abcdef"), "WHK#0123456789abcdef");
  for (int s = 0; s < kOutboxShards; ++s) EXPECT_NE(outbox_shard_pk("t", s), outbox_legacy_pk("t"));
}

TEST(OutboxShard, SpreadsImageIdsEvenly) {
  // 8,000 ULID-shaped ids (Crockford base32): every shard within 15 % of its fair share.
  const char* alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::mt19937 rng(42);
  std::map<int, int> per_shard;
  std::set<std::string> ids;
  while (ids.size() < 8000) {
    std::string id = "01J";
    for (int i = 0; i < 23; ++i) id += alphabet[rng() % 32];
    ids.insert(id);
  }
  for (const auto& id : ids) {
    int s = outbox_shard(id);
    ASSERT_GE(s, 0);
    ASSERT_LT(s, kOutboxShards);
    ++per_shard[s];
    EXPECT_EQ(outbox_shard(id), s);  // the same every time
  }
  ASSERT_EQ(per_shard.size(), std::size_t(kOutboxShards));
  for (const auto& [s, n] : per_shard) {
    EXPECT_GT(n, 850) << "shard " << s;
    EXPECT_LT(n, 1150) << "shard " << s;
  }
}

}  // namespace
}  // namespace isvc::storage::dynamo
