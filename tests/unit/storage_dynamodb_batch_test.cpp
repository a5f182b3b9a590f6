// BatchWriteItem / BatchGetItem chunking and the retry of work DynamoDB hands back unprocessed,
// and call_all's fan-out, against scripted fakes of the DynamoDB call.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "domain/model/error.h"
#include "storage/dynamodb_batch.h"

namespace isvc::storage::dynamo {
namespace {

namespace json = boost::json;

json::object key(int i) {
  return {{"PK", {{"S", "IMAGE#" + std::to_string(i)}}}};
}
std::string pk_of(const json::value& v) {
  return std::string(v.as_object().at("PK").at("S").as_string());
}

// A table in a map. `hand_back(call, n)` says how many of the n requests of that call to return
// unprocessed (the last ones), to imitate throttling.
struct FakeTable {
  std::map<std::string, json::object> items;
  std::vector<std::size_t> sizes;  // requests (or keys) per call
  std::function<std::size_t(int call, std::size_t n)> hand_back = [](int, std::size_t) {
    return std::size_t(0);
  };
  std::string fail_with;

  aws::DynamoResult operator()(std::string_view op, const json::value& req) {
    aws::DynamoResult r;
    if (!fail_with.empty()) {
      r.error_type = fail_with;
      r.body = json::object{};
      return r;
    }
    int call = int(sizes.size());
    const auto& [table, work] = *req.at("RequestItems").as_object().begin();
    r.ok = true;
    if (op == "BatchWriteItem") {
      const auto& reqs = work.as_array();
      sizes.push_back(reqs.size());
      std::size_t keep = reqs.size() - std::min(reqs.size(), hand_back(call, reqs.size()));
      json::array left;
      for (std::size_t i = 0; i < reqs.size(); ++i) {
        const auto& item = reqs[i].at("PutRequest").at("Item");
        if (i < keep)
          items[pk_of(item)] = item.as_object();
        else
          left.push_back(reqs[i]);
      }
      json::object body{{"UnprocessedItems", json::object{}}};
      if (!left.empty()) body["UnprocessedItems"] = json::object{{table, std::move(left)}};
      r.body = std::move(body);
    } else {
      EXPECT_EQ(op, "BatchGetItem");
      EXPECT_TRUE(work.at("ConsistentRead").as_bool());
      const auto& keys = work.at("Keys").as_array();
      sizes.push_back(keys.size());
      std::size_t keep = keys.size() - std::min(keys.size(), hand_back(call, keys.size()));
      json::array found, left;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i >= keep) {
          left.push_back(keys[i]);
        } else if (auto it = items.find(pk_of(keys[i])); it != items.end()) {
          found.push_back(it->second);
        }
      }
      json::object body{{"Responses", {{table, std::move(found)}}}};
      if (!left.empty())
        body["UnprocessedKeys"] =
            json::object{{table, {{"Keys", std::move(left)}, {"ConsistentRead", true}}}};
      r.body = std::move(body);
    }
    return r;
  }
};

struct Fixture : ::testing::Test {
  FakeTable table;
  std::vector<int64_t> sleeps;
  BatchSettings settings;
  Caller call = [this](std::string_view op, const json::value& req) { return table(op, req); };
  void SetUp() override {
    settings.sleep = [this](int64_t ms) { sleeps.push_back(ms); };
  }
};

using BatchPut = Fixture;
using BatchGet = Fixture;

TEST_F(BatchPut, SendsTwentyFivePerCall) {
  std::vector<json::object> items;
  for (int i = 0; i < 60; ++i) items.push_back(key(i));
  batch_put(call, "t", items, settings);
  EXPECT_EQ(table.sizes, (std::vector<std::size_t>{25, 25, 10}));
  EXPECT_EQ(table.items.size(), 60u);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(BatchPut, ResendsUnprocessedItemsAfterABackoffUntilAllAreWritten) {
  // The first two answers of each batch hand back 10, then 3 items.
  table.hand_back = [](int call, std::size_t) {
    return call % 3 == 0 ? std::size_t(10) : call % 3 == 1 ? std::size_t(3) : std::size_t(0);
  };
  std::vector<json::object> items;
  for (int i = 0; i < 50; ++i) items.push_back(key(i));
  batch_put(call, "t", items, settings);
  EXPECT_EQ(table.sizes, (std::vector<std::size_t>{25, 10, 3, 25, 10, 3}));
  EXPECT_EQ(table.items.size(), 50u);
  ASSERT_EQ(sleeps.size(), 4u);  // one backoff before each resend
  for (auto ms : sleeps) EXPECT_LE(ms, 2000);
}

TEST_F(BatchPut, GivesUpAsUnavailableWhenItemsStayUnprocessed) {
  table.hand_back = [](int, std::size_t n) { return n; };
  settings.max_rounds = 4;
  try {
    batch_put(call, "t", {key(1), key(2)}, settings);
    FAIL() << "expected an error";
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::Unavailable);
  }
  EXPECT_EQ(table.sizes.size(), 4u);
  EXPECT_EQ(sleeps.size(), 3u);
}

TEST_F(BatchPut, AnErrorAnswerIsAStorageFailure) {
  table.fail_with = "ValidationException";
  try {
    batch_put(call, "t", {key(1)}, settings);
    FAIL() << "expected an error";
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::StorageFailed);
    EXPECT_NE(std::string(e.what()).find("ValidationException"), std::string::npos);
  }
}

TEST_F(BatchPut, NothingToWriteMakesNoCall) {
  batch_put(call, "t", {}, settings);
  EXPECT_TRUE(table.sizes.empty());
}

TEST_F(BatchGet, ReadsAHundredKeysPerCallAndRetriesUnprocessedKeys) {
  for (int i = 0; i < 300; i += 2) table.items["IMAGE#" + std::to_string(i)] = key(i);
  table.hand_back = [](int call, std::size_t) { return call == 0 ? std::size_t(40) : 0; };
  std::vector<json::object> keys;
  for (int i = 0; i < 250; ++i) keys.push_back(key(i));
  auto found = batch_get(call, "t", keys, settings);
  EXPECT_EQ(table.sizes, (std::vector<std::size_t>{100, 40, 100, 50}));
  std::set<std::string> pks;
  for (const auto& f : found) pks.insert(pk_of(f));
  EXPECT_EQ(pks.size(), 125u);  // the even ids below 250, each once
  EXPECT_EQ(found.size(), 125u);
  EXPECT_TRUE(pks.count("IMAGE#248"));
  EXPECT_FALSE(pks.count("IMAGE#1"));
  EXPECT_EQ(sleeps.size(), 1u);
}

// Every request is in flight at once: each call waits until all of them have started (a
// sequential implementation would never get past the first), with a deadline so a regression
// fails instead of hanging.
TEST(CallAll, SendsEveryRequestAtOnceAndWaitsForAll) {
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, finished = 0;
  std::set<std::string> seen;
  constexpr int kRequests = 5;
  Caller call = [&](std::string_view op, const json::value& req) {
    EXPECT_EQ(op, "UpdateItem");
    std::unique_lock lock(mu);
    seen.insert(pk_of(req.at("Key")));
    ++started;
    cv.notify_all();
    bool all = cv.wait_for(lock, std::chrono::seconds(10), [&] { return started == kRequests; });
    EXPECT_TRUE(all) << "only " << started << " of " << kRequests << " calls were in flight";
    ++finished;
    aws::DynamoResult r;
    r.ok = true;
    r.body = json::object{};
    return r;
  };
  std::vector<json::object> reqs;
  for (int i = 0; i < kRequests; ++i) reqs.push_back(json::object{{"Key", key(i)}});
  call_all(call, "UpdateItem", reqs);
  EXPECT_EQ(finished, kRequests);  // none still running when call_all returned
  EXPECT_EQ(seen.size(), std::size_t(kRequests));
  call_all(call, "UpdateItem", {});  // nothing to send: no call
  EXPECT_EQ(started, kRequests);
}

TEST(CallAll, AFailureIsRethrownAfterEveryCallFinished) {
  std::atomic<int> calls{0}, done{0};
  Caller call = [&](std::string_view, const json::value& req) {
    ++calls;
    aws::DynamoResult r;
    r.body = json::object{};
    if (pk_of(req.at("Key")) == "IMAGE#1") {
      r.error_type = "ValidationException";
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // slower than the failure
      r.ok = true;
    }
    ++done;
    return r;
  };
  std::vector<json::object> reqs;
  for (int i = 0; i < 4; ++i) reqs.push_back(json::object{{"Key", key(i)}});
  try {
    call_all(call, "UpdateItem", reqs);
    ADD_FAILURE() << "no error";
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::StorageFailed);
    EXPECT_NE(std::string(e.what()).find("ValidationException"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(done.load(), 4);
}

}  // namespace
}  // namespace isvc::storage::dynamo
