// GET/HEAD /files/{key}: immutable objects with strong ETags, conditional requests, single byte
// ranges, and the hot-object cache in front of the object store (SPEC §5). The body is never
// copied per view: a cache hit refers to the cache's shared bytes, a miss too large for the
// cache (or with the cache off) sends the store's open object (a file: sendfile(2)).
#include <charconv>
#include <ctime>

#include "api/file_body.h"
#include "api/file_request.h"
#include "api/http_app.h"
#include "domain/model/object_keys.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

std::optional<http::Response> HttpApp::respond_inline(http::Request& head) {
  // Only a hot-cache hit of /files: no store, no auth, no body, nothing that blocks.
  if (head.route != files_route_ || head.params.empty()) return std::nullopt;
  auto key = decode_file_key(head.params[0]);
  if (!key) return std::nullopt;
  auto obj = d_.file_cache.get(*key);
  if (!obj) return std::nullopt;
  http::Response res =
      file_response(head, *key, obj->info, std::make_shared<CachedBody>(obj->bytes), true);
  finish(head, res);
  return res;
}

http::Response HttpApp::serve_file(const http::Request& req) {
  auto key = decode_file_key(req.params.at(0));
  if (!key) throw Error(ErrorCode::NotFound, "no such file");
  if (auto obj = d_.file_cache.get(*key))
    return file_response(req, *key, obj->info, std::make_shared<CachedBody>(obj->bytes), true);

  d_.metrics.file_cache_misses.fetch_add(1);
  // A responsive variant is delivered like any object; only its first request makes it.
  auto variant = d_.variants ? domain::parse_variant_key(*key) : std::nullopt;
  auto opened = d_.objects.open(*key);
  if (opened && variant) d_.metrics.variant_requests.inc({variant->extension, "hit"});
  if (!opened && variant) {
    if (auto data = d_.variants->fetch(*key))
      opened =
          domain::OpenObject{std::move(data->info),
                             std::make_shared<domain::MemoryObjectReader>(std::move(data->bytes))};
  }
  if (!opened) throw Error(ErrorCode::NotFound, "no such file");
  if (auto* b = opened->reader->bytes()) opened->info.size = static_cast<int64_t>(b->size());
  if (d_.file_cache.admits(opened->info.size)) {
    // Cached as today (every object the cache admits, on its first read), then served from there.
    CachedObject fresh{opened->info, std::make_shared<const std::string>(
                                         read_whole(*opened->reader, opened->info.size))};
    d_.file_cache.put(*key, fresh);
    return file_response(req, *key, fresh.info, std::make_shared<CachedBody>(fresh.bytes), false);
  }
  return file_response(req, *key, opened->info, std::make_shared<ReaderBody>(opened->reader),
                       false);
}

http::Response HttpApp::file_response(const http::Request& req, const std::string& key,
                                      const domain::ObjectInfo& info,
                                      std::shared_ptr<http::BodySource> body, bool hit) {
  auto variant = d_.variants ? domain::parse_variant_key(key) : std::nullopt;
  if (hit) {
    d_.metrics.file_cache_hits.fetch_add(1);
    if (variant) d_.metrics.variant_requests.inc({variant->extension, "hit"});
  }
  const int64_t size = info.size;
  std::string etag = "\"" + info.etag + "\"";

  http::Response res;
  res.set("Cache-Control", "public, max-age=31536000, immutable");
  res.set("ETag", etag);
  res.set("Last-Modified", format_http_date(info.last_modified_ms / 1000));
  res.set("Accept-Ranges", "bytes");
  res.set("Content-Type",
          info.content_type.empty() ? "application/octet-stream" : info.content_type);

  if (not_modified(req, etag, info.last_modified_ms / 1000)) {
    res.status = 304;
    return res;
  }

  res.status = 200;
  res.source = std::move(body);
  res.source_offset = 0;
  res.source_length = static_cast<uint64_t>(size);
  auto range_header = req.header("Range");
  if (range_header && range_applies(req, etag)) {
    auto r = parse_single_range(*range_header, size);
    if (r.kind == RangeKind::Unsatisfiable) {
      http::Response err = error_response(
          req, Error(ErrorCode::RangeNotSatisfiable, "the requested range is not satisfiable"));
      err.set("Content-Range", "bytes */" + std::to_string(size));
      err.set("Accept-Ranges", "bytes");
      return err;
    }
    if (r.kind == RangeKind::Satisfiable) {
      res.status = 206;
      res.source_offset = static_cast<uint64_t>(r.first);
      res.source_length = static_cast<uint64_t>(r.last - r.first + 1);
      res.set("Content-Range", "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                                   "/" + std::to_string(size));
    }
  }
  if (req.method == "HEAD") {
    res.head_content_length = res.source_length;
    res.source.reset();
  } else if (variant) {
    d_.metrics.variant_bytes.inc({variant->extension}, res.source_length);
  }
  return res;
}

}  // namespace isvc::api
