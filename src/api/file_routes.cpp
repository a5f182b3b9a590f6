// GET/HEAD /files/{key}: immutable objects with strong ETags, conditional requests, single byte
// ranges, and the hot-object cache in front of the object store (SPEC §5).
#include <charconv>
#include <ctime>

#include "api/file_request.h"
#include "api/http_app.h"
#include "domain/model/object_keys.h"

namespace isvc::api {

using domain::Error;
using domain::ErrorCode;

http::Response HttpApp::serve_file(const http::Request& req) {
  auto key = decode_file_key(req.params.at(0));
  if (!key) throw Error(ErrorCode::NotFound, "no such file");

  // A responsive variant is delivered like any object; only its first request makes it.
  auto variant = d_.variants ? domain::parse_variant_key(*key) : std::nullopt;
  std::optional<api::CachedObject> obj = d_.file_cache.get(*key);
  if (obj) {
    d_.metrics.file_cache_hits.fetch_add(1);
    if (variant) d_.metrics.variant_requests.inc({variant->extension, "hit"});
  } else {
    d_.metrics.file_cache_misses.fetch_add(1);
    auto data = d_.objects.get(*key);
    if (data && variant) d_.metrics.variant_requests.inc({variant->extension, "hit"});
    if (!data && variant) data = d_.variants->fetch(*key);
    if (!data) throw Error(ErrorCode::NotFound, "no such file");
    api::CachedObject fresh{data->info,
                            std::make_shared<const std::string>(std::move(data->bytes))};
    d_.file_cache.put(*key, fresh);
    obj = std::move(fresh);
  }
  const auto& info = obj->info;
  const auto size = static_cast<int64_t>(obj->bytes->size());
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
  res.shared_body = obj->bytes;
  res.shared_offset = 0;
  res.shared_length = obj->bytes->size();
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
      res.shared_offset = static_cast<std::size_t>(r.first);
      res.shared_length = static_cast<std::size_t>(r.last - r.first + 1);
      res.set("Content-Range", "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                                   "/" + std::to_string(size));
    }
  }
  if (req.method == "HEAD") {
    res.head_content_length = res.shared_length;
    res.shared_body.reset();
  } else if (variant) {
    d_.metrics.variant_bytes.inc({variant->extension}, res.shared_length);
  }
  return res;
}

}  // namespace isvc::api
