#include "api/render.h"

#include <boost/json.hpp>
#include <cstdio>

#include "api/error_mapping.h"
#include "api/file_request.h"
#include "api/json_writer.h"
#include "base/time_format.h"
#include "domain/validation.h"

namespace isvc::api {

namespace {

void optional_string(JsonWriter& w, const char* k, const std::optional<std::string>& v) {
  if (v) w.field(k, std::string_view(*v));
}

void tags(JsonWriter& w, const std::vector<std::string>& t) {
  w.key("tags").begin_array();
  for (const auto& s : t) w.value(std::string_view(s));
  w.end_array();
}

// Absent until the record has them (imports and legacy rows until backfill-placeholders).
void placeholders(JsonWriter& w, const domain::ImageRecord& r) {
  optional_string(w, "thumbhash", r.thumbhash);
  optional_string(w, "dominantColor", r.dominant_color);
}

// The camera facts (docs/exif.md); absent when the original had none. GPS only when the record
// kept it (EXIF_KEEP_GPS), and every image object goes to its owner (or an admin) only.
void exif_object(JsonWriter& w, const domain::ImageRecord& r) {
  if (!r.exif) return;
  const auto& f = *r.exif;
  w.key("exif").begin_object();
  optional_string(w, "takenAt", f.taken_at);
  optional_string(w, "make", f.make);
  optional_string(w, "model", f.model);
  optional_string(w, "lens", f.lens);
  if (f.exposure_num && f.exposure_den) {
    w.field("exposureTime",
            std::string_view(domain::exposure_text(*f.exposure_num, *f.exposure_den)));
    w.key("exposureSeconds").value_double(double(*f.exposure_num) / double(*f.exposure_den), 6);
  }
  if (f.f_number) w.key("fNumber").value_double(*f.f_number, 2);
  if (f.iso) w.field("iso", *f.iso);
  if (f.focal_length_mm) w.key("focalLength").value_double(*f.focal_length_mm, 2);
  if (f.gps_latitude && f.gps_longitude) {
    w.key("gps").begin_object();
    w.key("latitude").value_double(*f.gps_latitude, 4);
    w.key("longitude").value_double(*f.gps_longitude, 4);
    w.end_object();
  }
  w.end_object();
}

// imageUrl = CDN_BASE_URL + "/" + s3Key (SPEC §2), with the key percent-encoded for a URL path so
// that keys of percent-encoded user ids round-trip; for ordinary ids it is the key unchanged.
// Written into `scratch`, which a response reuses for all its URLs (no allocation per URL); the
// view is valid until the next call.
std::string_view url_for(std::string& scratch, const std::string& base, const std::string& key) {
  scratch.assign(base);
  scratch += '/';
  append_key_for_url(scratch, key);
  return scratch;
}

void variant_fields(JsonWriter& w, const domain::ImageRecord& r, const std::string& cdn,
                    const domain::VariantSettings& s, std::string& scratch) {
  auto all = domain::variants_of(r, s);
  w.key("variants").begin_array();
  for (const auto& v : all) {
    w.begin_object();
    w.field("width", int64_t(v.width));
    w.field("height", int64_t(v.height));
    w.field("format", std::string_view(domain::extension(v.format)));
    w.field("url", url_for(scratch, cdn, v.key));
    w.end_object();
  }
  w.end_array();
  w.key("srcset").begin_object();
  for (auto f : s.formats) {
    std::string set;
    for (const auto& v : all) {
      if (v.format != f) continue;
      if (!set.empty()) set += ", ";
      set += url_for(scratch, cdn, v.key);
      set += ' ';
      set += std::to_string(v.width);
      set += 'w';
    }
    if (!set.empty()) w.field(domain::extension(f), std::string_view(set));
  }
  w.end_object();
}

void image_fields(JsonWriter& w, const domain::ImageRecord& r, const std::string& cdn,
                  const domain::VariantSettings* variants) {
  using base::format_iso8601_ms;
  std::string scratch;
  w.field("id", std::string_view(r.id));
  w.field("userId", std::string_view(r.user_id));
  optional_string(w, "albumId", r.album_id);
  w.field("originalFilename", std::string_view(r.original_filename));
  w.field("mimeType", std::string_view(r.mime_type));
  w.field("fileSize", r.file_size);
  w.field("processedSize", r.processed_size);
  w.field("width", r.width);
  w.field("height", r.height);
  w.key("aspectRatio").value_double(domain::aspect_ratio(r.width, r.height), 3);
  w.field("s3Key", std::string_view(r.s3_key));
  w.field("s3Bucket", std::string_view(r.s3_bucket));
  optional_string(w, "thumbnailKey", r.thumbnail_key);
  w.field("imageUrl", url_for(scratch, cdn, r.s3_key));
  if (r.thumbnail_key) w.field("thumbnailUrl", url_for(scratch, cdn, *r.thumbnail_key));
  w.field("processingStatus", std::string_view(r.processing_status));
  optional_string(w, "processingError", r.processing_error);
  w.field("format", std::string_view(r.format));
  w.field("quality", r.quality);
  optional_string(w, "title", r.title);
  optional_string(w, "description", r.description);
  optional_string(w, "altText", r.alt_text);
  tags(w, r.tags);
  w.field("createdAt", std::string_view(base::format_iso8601_ms(r.created_at_ms)));
  w.field("updatedAt", std::string_view(base::format_iso8601_ms(r.updated_at_ms)));
  w.field("uploadedAt", std::string_view(base::format_iso8601_ms(r.uploaded_at_ms)));
  w.field("version", r.version);
  if (variants) variant_fields(w, r, cdn, *variants, scratch);
  placeholders(w, r);
  exif_object(w, r);
}

}  // namespace

std::string render_image(const domain::ImageRecord& rec, const std::string& cdn,
                         const domain::VariantSettings* variants,
                         const std::optional<std::string>& duplicate_of) {
  JsonWriter w;
  w.begin_object();
  image_fields(w, rec, cdn, variants);
  optional_string(w, "duplicateOf", duplicate_of);
  w.end_object();
  return w.take();
}

std::string render_list(const domain::ListResult& page, const std::string& cdn,
                        const domain::VariantSettings* variants) {
  JsonWriter w;
  std::string scratch;  // every URL of the page, one after the other
  w.begin_object().key("images").begin_array();
  for (const auto& r : page.images) {
    // The list item of SPEC §2 plus the fields a gallery needs to render a card.
    w.begin_object();
    w.field("id", std::string_view(r.id));
    w.field("userId", std::string_view(r.user_id));
    optional_string(w, "albumId", r.album_id);
    if (r.thumbnail_key) w.field("thumbnailUrl", url_for(scratch, cdn, *r.thumbnail_key));
    w.field("imageUrl", url_for(scratch, cdn, r.s3_key));
    optional_string(w, "title", r.title);
    optional_string(w, "altText", r.alt_text);
    w.field("width", r.width);
    w.field("height", r.height);
    w.key("aspectRatio").value_double(domain::aspect_ratio(r.width, r.height), 3);
    tags(w, r.tags);
    w.field("uploadedAt", std::string_view(base::format_iso8601_ms(r.uploaded_at_ms)));
    w.field("version", r.version);
    if (variants) variant_fields(w, r, cdn, *variants, scratch);
    placeholders(w, r);
    exif_object(w, r);
    w.end_object();
  }
  w.end_array();
  w.key("pagination").begin_object();
  w.field("limit", page.limit);
  w.field("hasMore", page.has_more);
  w.key("nextCursor");
  if (page.next_cursor)
    w.value(std::string_view(*page.next_cursor));
  else
    w.null();
  w.end_object();
  w.field("totalCount", page.total_count);
  w.end_object();
  return w.take();
}

std::string render_error(const domain::Error& err, const std::string& request_id) {
  JsonWriter w;
  w.begin_object();
  w.field("error", error_kind(err.code()));
  w.field("message", std::string_view(err.what()));
  w.field("code", domain::code_name(err.code()));
  w.key("details").begin_object();
  for (const auto& [k, v] : err.details()) w.field(k, std::string_view(v));
  w.end_object();
  if (err.current_version) w.field("currentVersion", *err.current_version);
  if (err.retry_after_s) w.field("retryAfter", static_cast<int64_t>(*err.retry_after_s));
  w.field("requestId", std::string_view(request_id));
  w.end_object();
  return w.take();
}

boost::json::object parse_json_object(std::string_view text, int max_depth) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = std::size_t(max_depth);
  auto body = boost::json::parse(text, ec, {}, opts);
  if (ec || !body.is_object())
    throw domain::Error(domain::ErrorCode::BadRequest, "the body must be a JSON object");
  return std::move(body.as_object());
}

http::Response json_response(int status, std::string body) {
  http::Response res;
  res.status = status;
  res.body = std::move(body);
  res.set("Content-Type", "application/json");
  return res;
}

std::string human_bytes(int64_t bytes) {
  static const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 5) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

}  // namespace isvc::api
