#include "cdn/purge_targets.h"

#include "aws/sigv4.h"
#include "aws/xml.h"
#include "base/crypto.h"
#include "base/encoding.h"

namespace isvc::cdn {

HttpPurgeTarget::HttpPurgeTarget(aws::HttpClient& http, std::string base_url)
    : http_(http), base_(std::move(base_url)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::string HttpPurgeTarget::send(const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    aws::HttpRequest req;
    req.method = "PURGE";
    req.url = base_ + "/" + aws::uri_encode(key, true);
    try {
      auto resp = http_.send(req);
      if (resp.status != 200 && resp.status != 204 && resp.status != 404)
        return "PURGE " + req.url + ": HTTP " + std::to_string(resp.status);
    } catch (const aws::TransportError& e) {
      return "PURGE " + req.url + ": " + e.what();
    }
  }
  return "";
}

aws::AwsRequest cloudfront_invalidation(const std::string& distribution_id,
                                        const std::string& path_prefix,
                                        const std::vector<std::string>& keys,
                                        const std::string& caller_reference, std::string& body) {
  body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Paths>"
      "<Quantity>" +
      std::to_string(keys.size()) + "</Quantity><Items>";
  for (const auto& k : keys)
    body += "<Path>" + aws::xml_escape(path_prefix + "/" + aws::uri_encode(k, true)) + "</Path>";
  body += "</Items></Paths><CallerReference>" + aws::xml_escape(caller_reference) +
          "</CallerReference></InvalidationBatch>";
  aws::AwsRequest r;
  r.action = "CreateInvalidation";
  r.method = "POST";
  r.path = "/2020-05-31/distribution/" + distribution_id + "/invalidation";
  r.headers = {{"content-type", "application/xml"}};
  r.body = body;
  return r;
}

CloudFrontTarget::CloudFrontTarget(aws::HttpClient& http, aws::Credentials creds,
                                   std::string distribution_id, std::string path_prefix,
                                   aws::RetryPolicy retry, std::string endpoint,
                                   aws::RequestCounter* counter)
    : distribution_id_(std::move(distribution_id)), prefix_(std::move(path_prefix)) {
  aws::AwsClientSettings s;
  s.endpoint = std::move(endpoint);
  s.region = "us-east-1";  // CloudFront is global and signs in us-east-1
  s.service = "cloudfront";
  s.credentials = std::move(creds);
  s.retry = retry;
  s.counter = counter;
  client_ = std::make_unique<aws::AwsClient>(http, s);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

std::string CloudFrontTarget::send(const std::vector<std::string>& keys) {
  std::string body;
  // Unique per batch (CloudFront answers a reused reference with the old invalidation); a lost
  // answer retried later costs at most a duplicate invalidation.
  std::string ref = "isvc-" + base::hex_encode(base::random_bytes(12));
  auto req = cloudfront_invalidation(distribution_id_, prefix_, keys, ref, body);
  try {
    auto resp = client_->send(req);
    if (resp.status == 201 || resp.status == 200) return "";
    return "CreateInvalidation: " + aws::describe_error(resp);
  } catch (const std::exception& e) {
    return std::string("CreateInvalidation: ") + e.what();
  }
}

}  // namespace isvc::cdn
