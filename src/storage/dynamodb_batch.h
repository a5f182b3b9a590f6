// DynamoDB's batch operations with their partial-failure rules: BatchWriteItem takes at most 25
// requests and BatchGetItem at most 100 keys per call, and either may hand part of the work back
// (UnprocessedItems / UnprocessedKeys) when the table is throttled; that part is sent again after
// a full-jitter backoff until done or the attempts run out.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/aws_client.h"
#include "aws/dynamodb_client.h"

namespace isvc::storage::dynamo {

// One DynamoDB call (DynamoDbClient::call in production; a fake in unit tests).
using Caller =
    std::function<aws::DynamoResult(std::string_view operation, const boost::json::value&)>;

struct BatchSettings {
  // Rounds for work handed back as unprocessed (the first round included).
  int max_rounds = 10;
  aws::RetryPolicy backoff{10, 50, 2000};
  std::function<void(int64_t ms)> sleep;  // default: this_thread::sleep_for
};

inline constexpr std::size_t kBatchWriteMax = 25;
inline constexpr std::size_t kBatchGetMax = 100;

// Puts every item (unconditionally: BatchWriteItem has no conditions) into `table`. Items must
// have distinct keys. Throws domain::Error(Unavailable) when items are still unprocessed after
// max_rounds, domain::Error(StorageFailed) on an error answer.
void batch_put(const Caller& call, const std::string& table,
               const std::vector<boost::json::object>& items, const BatchSettings& s = {});

// The items stored under `keys` (strongly consistent reads), in no particular order; keys with
// no item are simply absent. Same errors as batch_put.
std::vector<boost::json::object> batch_get(const Caller& call, const std::string& table,
                                           const std::vector<boost::json::object>& keys,
                                           const BatchSettings& s = {});

// Sends every request of `operation` at once (the first on this thread, the others on their own
// threads) and returns when all have answered, so that independent writes (the counter cells
// of one change: different items, order irrelevant) cost the slowest call instead of their sum.
// An error answer is domain::Error(StorageFailed); the first failure is rethrown only after every
// call has finished, so none is left running against the caller's state.
void call_all(const Caller& call, std::string_view operation,
              const std::vector<boost::json::object>& requests);

}  // namespace isvc::storage::dynamo
