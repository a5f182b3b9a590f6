// DynamoDB's JSON protocol (x-amz-json-1.0, X-Amz-Target) over AwsClient: one call per operation,
// AWS error types surfaced by name so adapters can map them (a failed condition is not an error).
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "aws/aws_client.h"

namespace isvc::aws {

struct DynamoResult {
  bool ok = false;
  std::string error_type;  // e.g. "ConditionalCheckFailedException" (namespace stripped)
  std::string message;
  boost::json::value body;  // the parsed response (also for errors)
};

class DynamoDbClient {
 public:
  explicit DynamoDbClient(AwsClient& aws) : aws_(aws) {}

  // Throws domain::Error(Unavailable) when the service stays throttled/down after retries, and
  // domain::Error(StorageFailed) when the answer is not DynamoDB JSON. A 4xx error comes back as
  // a result with ok=false for the caller to judge.
  DynamoResult call(std::string_view operation, const boost::json::value& request);

  // call() that throws domain::Error(StorageFailed) on any error result.
  boost::json::value must(std::string_view operation, const boost::json::value& request);

  AwsClient& aws() { return aws_; }

 private:
  AwsClient& aws_;
};

}  // namespace isvc::aws
