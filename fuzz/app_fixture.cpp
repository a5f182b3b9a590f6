#include "app_fixture.h"

#include <unistd.h>

namespace isvc::fuzz {

AppFixture::AppFixture() {
  dir = std::filesystem::temp_directory_path() / ("isvc-fuzz-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  imaging::init_vips(1);
  metadata = std::make_unique<storage::SqliteMetadataStore>((dir / "m.db").string());
  objects = std::make_unique<storage::FsObjectStore>((dir / "objects").string());
  images = std::make_unique<domain::ImageService>(
      domain::ServiceDeps{*metadata, *objects, processor, cpu, ids, clock, cursors, metrics,
                          nullptr},
      domain::ServiceSettings{});
  uploads = std::make_unique<domain::DirectUploads>(*images, *metadata, *objects, urls, ids, clock,
                                                    domain::DirectUploadSettings{});
  idempotent = std::make_unique<domain::IdempotentRequests>(*metadata, *metadata, clock);
  auth::JwtConfig jwt;
  jwt.hs256_secret = kSecret;
  verifier = std::make_unique<auth::TokenVerifier>(jwt, clock);
  api::ApiSettings settings;
  settings.cdn_base_url = "http://127.0.0.1:1/files";
  settings.cors_origins = {"https://example.com", "https://*.example.com"};
  // As in STAGE=dev: POST /dev/token signs tokens (fuzz_json sends it bodies).
  settings.dev_token = [this](const std::string& user) {
    return auth::mint_hs256(kSecret, user, auth::Role::User, 3600, clock.now_ms() / 1000);
  };
  app = std::make_unique<api::HttpApp>(api::ApiDeps{*images,
                                                    *uploads,
                                                    *idempotent,
                                                    *metadata,
                                                    *objects,
                                                    file_cache,
                                                    *verifier,
                                                    metrics,
                                                    log,
                                                    clock,
                                                    {{metadata.get(), true}, {objects.get(), true}},
                                                    &urls,
                                                    nullptr,
                                                    &cpu,
                                                    nullptr},
                                       settings);
  int64_t now_s = clock.now_ms() / 1000;
  user_token = auth::mint_hs256(kSecret, "alice", auth::Role::User, 1 << 30, now_s);
  admin_token = auth::mint_hs256(kSecret, "root", auth::Role::Admin, 1 << 30, now_s);
  service_token = auth::mint_hs256(kSecret, "legacy-api", auth::Role::Service, 1 << 30, now_s);

  domain::ImageRecord r;
  r.id = kImageId;
  r.user_id = "alice";
  r.original_filename = "photo.jpg";
  r.mime_type = "image/jpeg";
  r.file_size = 1000;
  r.processed_size = 600;
  r.thumbnail_size = 100;
  r.width = 4000;
  r.height = 3000;
  r.s3_key = std::string("images/alice/") + kImageId + ".webp";
  r.thumbnail_key = std::string("images/alice/thumbnails/") + kImageId + ".webp";
  r.s3_bucket = "local";
  r.processing_status = "completed";
  r.format = "webp";
  r.created_at_ms = r.updated_at_ms = r.uploaded_at_ms = clock.now_ms();
  metadata->insert(r);
}

AppFixture::~AppFixture() {
  app.reset();
  idempotent.reset();
  uploads.reset();
  images.reset();
  metadata.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

http::Response AppFixture::handle(http::Request& req) {
  auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  req.request_id = "fuzz";
  req.remote_address = "127.0.0.1";
  return app->handle(req);
}

AppFixture& AppFixture::instance() {
  static AppFixture f;
  return f;
}

http::Request parse_raw_request(std::string_view input, const AppFixture& f) {
  http::Request req;
  auto line_end = [&](std::size_t from) {
    auto e = input.find('\n', from);
    return e == std::string_view::npos ? input.size() : e;
  };
  std::size_t e = line_end(0);
  std::string_view first = input.substr(0, e);
  auto sp = first.find(' ');
  req.method = std::string(first.substr(0, sp));
  req.target = sp == std::string_view::npos ? "/" : std::string(first.substr(sp + 1));
  std::size_t at = e + 1;
  while (at < input.size()) {
    e = line_end(at);
    std::string_view line = input.substr(at, e - at);
    at = e + 1;
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::string value(line.substr(colon + 1));
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (http::iequals(name, "authorization")) {
      if (value == "@user") value = "Bearer " + f.user_token;
      if (value == "@admin") value = "Bearer " + f.admin_token;
      if (value == "@service") value = "Bearer " + f.service_token;
    }
    req.headers.emplace_back(std::move(name), std::move(value));
  }
  if (at < input.size()) req.body = std::string(input.substr(at));
  return req;
}

}  // namespace isvc::fuzz
