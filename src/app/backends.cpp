#include "app/backends.h"

#include <filesystem>

#include "storage/dynamodb_metadata_store.h"
#include "storage/fs_object_store.h"
#include "storage/sqlite_metadata_store.h"

namespace isvc::app {

namespace {

aws::Credentials credentials(const Config& cfg) {
  return {cfg.aws_access_key_id, cfg.aws_secret_access_key, cfg.aws_session_token};
}

aws::RetryPolicy retry(const Config& cfg) {
  aws::RetryPolicy p;
  p.max_attempts = cfg.aws_max_attempts;
  return p;
}

}  // namespace

Backends open_backends(const Config& cfg) {
  Backends b;
  namespace fs = std::filesystem;
  if (cfg.metadata_backend == "dynamodb" || cfg.object_backend == "s3") {
    aws::HttpClientOptions opts;
    opts.connect_timeout_ms = 2000;
    opts.request_timeout_ms = 30000;
    b.http = std::make_unique<aws::HttpClient>(opts);
  }
  if (cfg.metadata_backend == "dynamodb") {
    aws::AwsClientSettings s;
    s.endpoint = cfg.dynamodb_endpoint.empty()
                     ? "https://dynamodb." + cfg.aws_region + ".amazonaws.com"
                     : cfg.dynamodb_endpoint;
    s.region = cfg.aws_region;
    s.service = "dynamodb";
    s.credentials = credentials(cfg);
    s.retry = retry(cfg);
    s.counter = b.engine_requests.get();
    b.dynamo_aws = std::make_unique<aws::AwsClient>(*b.http, s);
    b.dynamo = std::make_unique<aws::DynamoDbClient>(*b.dynamo_aws);
    b.metadata =
        std::make_unique<storage::DynamoDbMetadataStore>(*b.dynamo, cfg.dynamodb_table_name);
  } else {
    fs::create_directories(cfg.data_dir);
    b.metadata = std::make_unique<storage::SqliteMetadataStore>(
        (fs::path(cfg.data_dir) / "metadata.db").string(), 4, cfg.sqlite_synchronous);
  }
  if (cfg.object_backend == "s3") {
    storage::S3Settings s;
    s.bucket = cfg.s3_bucket_name;
    s.endpoint = cfg.s3_endpoint;
    s.region = cfg.aws_region;
    s.force_path_style = cfg.s3_force_path_style;
    s.use_accelerate = cfg.s3_use_accelerate;
    s.sse = cfg.s3_sse;
    s.storage_class = cfg.s3_storage_class;
    s.credentials = credentials(cfg);
    s.retry = retry(cfg);
    s.counter = b.engine_requests.get();
    auto s3 = std::make_unique<storage::S3ObjectStore>(*b.http, s);
    b.s3 = s3.get();
    b.objects = std::move(s3);
  } else {
    auto dir = fs::path(cfg.data_dir) / "objects";
    fs::create_directories(dir);
    b.objects = std::make_unique<storage::FsObjectStore>(dir.string());
  }
  return b;
}

std::string cache_namespace(const Config& cfg) {
  if (cfg.metadata_backend == "dynamodb") return "dynamodb:" + cfg.dynamodb_table_name;
  return "sqlite:" + std::filesystem::absolute(cfg.data_dir).lexically_normal().string();
}

std::vector<std::string> provision_backends(Backends& b, const Config& cfg) {
  std::vector<std::string> report;
  if (b.dynamo) {
    auto r = storage::DynamoDbMetadataStore::provision(*b.dynamo, cfg.dynamodb_table_name);
    report.insert(report.end(), r.begin(), r.end());
  } else {
    report.push_back("sqlite metadata under " + cfg.data_dir + ": nothing to provision");
  }
  if (b.s3) {
    auto r = b.s3->provision(effective_cors_origins(cfg));
    report.insert(report.end(), r.begin(), r.end());
  } else {
    report.push_back("filesystem objects under " + cfg.data_dir + ": nothing to provision");
  }
  return report;
}

}  // namespace isvc::app
