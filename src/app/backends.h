// Opens the configured metadata and object stores (embedded: SQLite + filesystem under DATA_DIR;
// distributed: DynamoDB + S3 over one pooled HTTP client) for `serve`, `provision` and the tools.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "aws/aws_client.h"
#include "aws/dynamodb_client.h"
#include "aws/http_client.h"
#include "domain/direct_upload.h"
#include "domain/model/object_keys.h"
#include "domain/ports/clock.h"
#include "domain/ports/metadata_backend.h"
#include "domain/ports/object_store.h"
#include "storage/s3_object_store.h"

namespace isvc::app {

struct Backends {
  // Engine requests of every AWS client below (and the CDN's), by action: a /metrics source.
  std::unique_ptr<aws::RequestCounter> engine_requests = std::make_unique<aws::RequestCounter>();
  std::unique_ptr<aws::HttpClient> http;
  std::unique_ptr<aws::AwsClient> dynamo_aws;
  std::unique_ptr<aws::DynamoDbClient> dynamo;
  std::unique_ptr<domain::MetadataBackend> metadata;
  std::unique_ptr<domain::ObjectStore> objects;
  storage::S3ObjectStore* s3 = nullptr;  // objects, when it is S3 (presigned uploads, provision)
};

// Opens both stores. Creates nothing remote (see provision_backends); creates DATA_DIR's
// folders for the embedded backends.
Backends open_backends(const Config& cfg);

// The Redis key namespace of this deployment's metadata: the DynamoDB table, or the SQLite
// file's absolute path, so deployments sharing one Redis never see each other's entries.
std::string cache_namespace(const Config& cfg);

// Creates what the configured remote backends need (table, bucket and their settings),
// idempotently. One line per action or setting; embedded backends need nothing.
std::vector<std::string> provision_backends(Backends& b, const Config& cfg);

}  // namespace isvc::app
