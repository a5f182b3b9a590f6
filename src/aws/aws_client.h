// Signed requests to one AWS-protocol service (DynamoDB, S3, CloudFront): SigV4 over HttpClient,
// with bounded retries (exponential backoff, full jitter) on throttling, 5xx and connection errors.
// Retries exhausted → domain::Error(Unavailable) with Retry-After, or the last response.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/http_client.h"
#include "aws/request_counter.h"
#include "aws/sigv4.h"

namespace isvc::aws {

struct RetryPolicy {
  int max_attempts = 4;  // first try included
  int base_ms = 25;
  int cap_ms = 2000;
};

// Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform delay in
// [0, min(cap, base·2^retry)] before retry number `retry` (0 for the first retry).
int64_t backoff_ms(const RetryPolicy& p, int retry, std::mt19937_64& rng);

// Whether a response means "try again later": 429, 5xx, and the throttling error types AWS
// returns with 400 (DynamoDB ProvisionedThroughputExceeded/Throttling/RequestLimitExceeded).
bool is_retryable(const HttpResponse& r);

struct AwsRequest {
  std::string action;  // the API action ("PutItem", "GetObject"), for the request counter
  std::string method = "GET";
  std::string path = "/";  // decoded
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // besides host/x-amz-*
  std::string_view body;
};

struct AwsClientSettings {
  std::string endpoint;  // scheme://host[:port], no path
  std::string region = "us-east-1";
  std::string service;  // signing name: "dynamodb", "s3", "cloudfront"
  Credentials credentials;
  RetryPolicy retry;
  std::function<int64_t()> now_s;         // default: system clock
  std::function<void(int64_t ms)> sleep;  // default: this_thread::sleep_for
  RequestCounter* counter = nullptr;      // counts every attempt when set
};

class AwsClient {
 public:
  AwsClient(HttpClient& http, AwsClientSettings s);

  // Signs and sends with retries. Returns the final response (which may be an error the caller
  // maps); throws domain::Error(Unavailable) when no response came or the last one was still
  // retryable after every attempt.
  HttpResponse send(const AwsRequest& req);

  // A presigned URL for `method` on `path`, valid `expires_s` seconds (S3 direct uploads).
  std::string presign(const std::string& method, const std::string& path, int64_t expires_s,
                      const std::string& endpoint_override = "") const;

  const AwsClientSettings& settings() const { return s_; }
  std::string host_header() const { return host_; }

 private:
  HttpResponse send_once(const AwsRequest& req);

  HttpClient& http_;
  AwsClientSettings s_;
  std::string host_;
};

// "2xx…" etc. with the AWS error type and message, for logs and error details.
std::string describe_error(const HttpResponse& r);

}  // namespace isvc::aws
