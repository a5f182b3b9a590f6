#include "storage/dynamodb_batch.h"

#include <boost/json.hpp>
#include <chrono>
#include <exception>
#include <future>
#include <random>
#include <thread>

#include "domain/model/error.h"

namespace isvc::storage::dynamo {

namespace json = boost::json;
using domain::Error;
using domain::ErrorCode;

namespace {

// Sends `request` until the answer hands nothing back under `unprocessed_field` (the handed-back
// part becomes the next request, after a backoff); `on_answer` sees every successful answer.
void rounds(const Caller& call, std::string_view operation, json::object request,
            const char* unprocessed_field, const BatchSettings& s,
            const std::function<void(const json::object&)>& on_answer) {
  std::mt19937_64 rng{std::random_device{}()};
  auto sleep = s.sleep ? s.sleep : [](int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  for (int round = 0;; ++round) {
    auto r = call(operation, request);
    if (!r.ok)
      throw Error(ErrorCode::StorageFailed, "dynamodb " + std::string(operation) +
                                                " failed: " + r.error_type + " " + r.message);
    const auto& body = r.body.as_object();
    on_answer(body);
    auto* left = body.if_contains(unprocessed_field);
    if (!left || !left->is_object() || left->as_object().empty()) return;
    if (round + 1 >= s.max_rounds)
      throw Error(ErrorCode::Unavailable,
                  "dynamodb " + std::string(operation) + " kept returning unprocessed work");
    sleep(aws::backoff_ms(s.backoff, round, rng));
    request["RequestItems"] = left->as_object();
  }
}

}  // namespace

void batch_put(const Caller& call, const std::string& table, const std::vector<json::object>& items,
               const BatchSettings& s) {
  for (std::size_t from = 0; from < items.size(); from += kBatchWriteMax) {
    json::array requests;
    for (std::size_t i = from; i < std::min(items.size(), from + kBatchWriteMax); ++i)
      requests.push_back(json::object{{"PutRequest", {{"Item", items[i]}}}});
    json::object request{{"RequestItems", {{table, std::move(requests)}}}};
    rounds(call, "BatchWriteItem", std::move(request), "UnprocessedItems", s,
           [](const json::object&) {});
  }
}

std::vector<json::object> batch_get(const Caller& call, const std::string& table,
                                    const std::vector<json::object>& keys, const BatchSettings& s) {
  std::vector<json::object> found;
  for (std::size_t from = 0; from < keys.size(); from += kBatchGetMax) {
    json::array part;
    for (std::size_t i = from; i < std::min(keys.size(), from + kBatchGetMax); ++i)
      part.push_back(keys[i]);
    json::object request{
        {"RequestItems", {{table, {{"Keys", std::move(part)}, {"ConsistentRead", true}}}}}};
    rounds(call, "BatchGetItem", std::move(request), "UnprocessedKeys", s,
           [&](const json::object& body) {
             auto* responses = body.if_contains("Responses");
             if (!responses || !responses->is_object()) return;
             auto* items = responses->as_object().if_contains(table);
             if (!items || !items->is_array()) return;
             for (const auto& it : items->as_array())
               if (it.is_object()) found.push_back(it.as_object());
           });
  }
  return found;
}

void call_all(const Caller& call, std::string_view operation,
              const std::vector<json::object>& requests) {
  auto one = [&](const json::object& req) {
    auto r = call(operation, req);
    if (!r.ok)
      throw Error(ErrorCode::StorageFailed,
                  "dynamodb " + std::string(operation) + " failed: " + r.error_type);
  };
  if (requests.empty()) return;
  std::vector<std::future<void>> others;
  std::exception_ptr first;
  try {
    for (std::size_t i = 1; i < requests.size(); ++i)
      others.push_back(std::async(std::launch::async, one, std::cref(requests[i])));
  } catch (...) {  // no thread to be had: the rest on this thread, one after the other
    for (std::size_t i = others.size() + 1; i < requests.size(); ++i) {
      try {
        one(requests[i]);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
  }
  try {
    one(requests[0]);
  } catch (...) {
    if (!first) first = std::current_exception();
  }
  for (auto& f : others) {
    try {
      f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace isvc::storage::dynamo
