// The CDNs the purge queue knows: an HTTP PURGE per object URL (Varnish and most caching
// proxies), and Amazon CloudFront's CreateInvalidation (one batch per delete, SigV4-signed).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "aws/http_client.h"
#include "cdn/purge_queue.h"

namespace isvc::cdn {

// PURGE {base_url}/{key} for each key; 200/204/404 all mean "not cached any more".
class HttpPurgeTarget final : public PurgeTarget {
 public:
  HttpPurgeTarget(aws::HttpClient& http, std::string base_url);
  std::string name() const override { return "http-purge"; }
  std::string send(const std::vector<std::string>& object_keys) override;

 private:
  aws::HttpClient& http_;
  std::string base_;
};

// The CreateInvalidation request for the keys, as sent (exposed for tests).
aws::AwsRequest cloudfront_invalidation(const std::string& distribution_id,
                                        const std::string& path_prefix,
                                        const std::vector<std::string>& object_keys,
                                        const std::string& caller_reference, std::string& body);

class CloudFrontTarget final : public PurgeTarget {
 public:
  // path_prefix: the path part of CDN_BASE_URL ("" when the CDN serves keys at its root).
  CloudFrontTarget(aws::HttpClient& http, aws::Credentials creds, std::string distribution_id,
                   std::string path_prefix, aws::RetryPolicy retry,
                   std::string endpoint = "https://cloudfront.amazonaws.com",
                   aws::RequestCounter* counter = nullptr);
  std::string name() const override { return "cloudfront"; }
  std::string send(const std::vector<std::string>& object_keys) override;

 private:
  std::unique_ptr<aws::AwsClient> client_;
  std::string distribution_id_;
  std::string prefix_;
};

}  // namespace isvc::cdn
