// The whole HTTP application on the embedded backends (SQLite + files in a temporary directory),
// built once per fuzzer process, for harnesses that feed it requests. Tokens for a user, an admin
// and the service role are minted with the fixture's secret; one image of the user exists.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "api/file_cache.h"
#include "api/http_app.h"
#include "auth/token_verifier.h"
#include "base/bounded_pool.h"
#include "domain/cursor_codec.h"
#include "domain/direct_upload.h"
#include "domain/idempotency.h"
#include "domain/image_service.h"
#include "domain/ports/clock.h"
#include "domain/ulid.h"
#include "imaging/processing_limits.h"
#include "imaging/vips_processor.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "storage/fs_object_store.h"
#include "storage/service_upload_urls.h"
#include "storage/sqlite_metadata_store.h"

namespace isvc::fuzz {

struct AppFixture {
  static constexpr const char* kSecret = "fuzz-secret-fuzz-secret-fuzz-sec";
  static constexpr const char* kImageId = "01JD0000000000000000000000";

  std::filesystem::path dir;
  domain::SystemClock clock;
  obs::ServiceMetrics metrics;
  obs::Logger log{obs::Level::Error};
  imaging::VipsProcessor processor{imaging::ProcessingLimits{}};
  std::unique_ptr<storage::SqliteMetadataStore> metadata;
  std::unique_ptr<storage::FsObjectStore> objects;
  base::BoundedPool cpu{1, 4};
  domain::UlidGenerator ids{clock};
  domain::CursorCodec cursors{kSecret};
  std::unique_ptr<domain::ImageService> images;
  storage::ServiceUploadUrls urls{kSecret, "http://127.0.0.1:1"};
  std::unique_ptr<domain::DirectUploads> uploads;
  std::unique_ptr<domain::IdempotentRequests> idempotent;
  std::unique_ptr<auth::TokenVerifier> verifier;
  api::FileCache file_cache{8 * 1024 * 1024, 1024 * 1024};
  std::unique_ptr<api::HttpApp> app;
  std::string user_token, admin_token, service_token;

  AppFixture();
  ~AppFixture();

  // Runs one request through the application, as the server would after framing it.
  http::Response handle(http::Request& req);

  static AppFixture& instance();
};

// "METHOD target\nName: value\n…\n\nbody" → a request. The header value "@user", "@admin" or
// "@service" in Authorization becomes a valid bearer token of that role.
http::Request parse_raw_request(std::string_view input, const AppFixture& f);

}  // namespace isvc::fuzz
