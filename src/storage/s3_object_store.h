// domain::ObjectStore on the S3 API (AWS S3, or any compatible store via S3_ENDPOINT): path-style
// or virtual-hosted addressing, server-side encryption and storage class on every put, ranged GETs,
// ListObjectsV2 for fsck. A PUT is atomic in S3, so readers never see a torn object.
#pragma once

#include <memory>
#include <string>

#include "aws/aws_client.h"
#include "domain/ports/object_store.h"

namespace isvc::storage {

struct S3Settings {
  std::string bucket;
  std::string endpoint;  // scheme://host[:port]; default https://s3.{region}.amazonaws.com
  std::string region = "us-east-1";
  bool force_path_style = false;
  bool use_accelerate = false;  // presigned upload URLs on {bucket}.s3-accelerate.amazonaws.com
  std::string sse = "AES256";   // x-amz-server-side-encryption; "" sends none
  std::string storage_class;    // x-amz-storage-class; "" leaves the bucket default
  aws::Credentials credentials;
  aws::RetryPolicy retry;
  aws::RequestCounter* counter = nullptr;  // engine requests by action, for /metrics
};

class S3ObjectStore final : public domain::ObjectStore {
 public:
  S3ObjectStore(aws::HttpClient& http, S3Settings s);

  void put(const std::string& key, std::string_view bytes,
           const std::string& content_type) override;
  std::optional<domain::ObjectInfo> head(const std::string& key) override;
  std::optional<domain::ObjectData> get(
      const std::string& key, std::optional<domain::ByteRange> range = std::nullopt) override;
  // Streamed in ranged GETs of kPieceBytes (the first one tells the size and ETag; the others
  // carry If-Match, so a changed or deleted object fails the read instead of mixing versions):
  // memory per reader is one piece, whatever the object's size (storage/s3_object_reader.cpp).
  std::optional<domain::OpenObject> open(const std::string& key) override;
  static constexpr int64_t kPieceBytes = 2 * 1024 * 1024;  // most images: one GET
  void remove(const std::string& key) override;
  void remove_all(const std::vector<std::string>& keys) override;
  void list(
      const std::string& prefix,
      const std::function<bool(const std::string& key, const domain::ObjectInfo&)>& visit) override;
  std::string name() const override { return "s3"; }
  std::string bucket() const override { return s_.bucket; }
  bool healthy() override;

  // A presigned PUT URL for `key`, valid `expires_s` seconds (direct-to-storage uploads).
  std::string presign_put(const std::string& key, int64_t expires_s) const;

  // Creates the bucket when missing, then sets CORS, default encryption and the lifecycle rules
  // of SPEC §7. One line per setting, including settings the endpoint does not support.
  std::vector<std::string> provision(const std::vector<std::string>& cors_origins);

  const S3Settings& settings() const { return s_; }

 private:
  std::string object_path(const std::string& key) const;
  friend class S3ObjectReader;
  static domain::ObjectInfo info_of(const aws::HttpResponse& r);  // ETag, type, date, length
  // GetObject of bytes [first, last], If-Match `etag` when given.
  aws::HttpResponse get_range(const std::string& key, int64_t first, int64_t last,
                              const std::string& etag);
  aws::HttpResponse send(const aws::AwsRequest& r) { return client_->send(r); }

  S3Settings s_;
  std::unique_ptr<aws::AwsClient> client_;
  std::unique_ptr<aws::AwsClient> accelerate_;
};

}  // namespace isvc::storage
