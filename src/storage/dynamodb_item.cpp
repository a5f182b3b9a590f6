#include "storage/dynamodb_item.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "base/time_format.h"
#include "domain/model/error.h"

namespace isvc::storage::dynamo {

namespace json = boost::json;
using domain::Error;
using domain::ErrorCode;
using domain::ImageRecord;

json::object S(const std::string& s) {
  return {{"S", s}};
}
json::object N(int64_t n) {
  return {{"N", std::to_string(n)}};
}

std::string image_pk(const std::string& id) {
  return "IMAGE#" + id;
}
std::string user_pk(const std::string& user_id) {
  return "USER#" + user_id;
}
std::string deleting_pk(const std::string& user_id) {
  return "DELETING#USER#" + user_id;
}
std::string album_pk(const std::string& album_id) {
  return "ALBUM#" + album_id;
}
std::string uploaded_sk(int64_t uploaded_at_ms, const std::string& id) {
  return "UPLOADED#" + base::format_iso8601_ms(uploaded_at_ms) + "#" + id;
}
std::string taken_sk(int64_t taken_sort_key, const std::string& id) {
  return "TAKEN#" + base::format_iso8601_ms(taken_sort_key) + "#" + id;
}
std::string hash_pk(const std::string& user_id, const std::string& sha256) {
  return "HASH#" + sha256 + "#" + user_id;  // the hash has a fixed length: no collision
}

namespace {
[[noreturn]] void bad(const std::string& what);
}  // namespace

std::optional<std::string> str_attr(const json::object& item, std::string_view name) {
  auto* a = item.if_contains(name);
  if (!a) return std::nullopt;
  if (!a->is_object()) bad(std::string(name));
  auto* s = a->as_object().if_contains("S");
  if (!s || !s->is_string()) bad(std::string(name));
  return std::string(s->as_string());
}

std::optional<int64_t> num_attr(const json::object& item, std::string_view name) {
  auto* a = item.if_contains(name);
  if (!a) return std::nullopt;
  auto* n = a->is_object() ? a->as_object().if_contains("N") : nullptr;
  if (!n || !n->is_string()) bad(std::string(name));
  const auto& text = n->as_string();
  int64_t out = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size()) bad(std::string(name));
  return out;
}

namespace {

void put_opt(json::object& item, const char* name, const std::optional<std::string>& v) {
  if (v) item[name] = S(*v);
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::StorageFailed, "malformed DynamoDB item: " + what);
}

std::string req_s(const json::object& item, const char* name) {
  auto v = str_attr(item, name);
  if (!v) bad(std::string("missing ") + name);
  return *v;
}

int64_t req_n(const json::object& item, const char* name) {
  auto v = num_attr(item, name);
  if (!v) bad(std::string("missing ") + name);
  return *v;
}

int64_t req_time(const json::object& item, const char* name) {
  auto t = base::parse_iso8601_ms(req_s(item, name));
  if (!t) bad(name);
  return *t;
}

// Length-prefixed so that no album id or tag can make two cells collide.
std::string album_tag_sk(const std::string& album, const std::string& tag) {
  return "ALBUMTAG#" + std::to_string(album.size()) + "#" + album + "#" + tag;
}

}  // namespace

json::object to_item(const ImageRecord& r) {
  json::object item;
  item["PK"] = S(image_pk(r.id));
  item["SK"] = S("METADATA");
  item["id"] = S(r.id);
  item["userId"] = S(r.user_id);
  put_opt(item, "albumId", r.album_id);
  item["originalFilename"] = S(r.original_filename);
  item["mimeType"] = S(r.mime_type);
  item["fileSize"] = N(r.file_size);
  item["processedSize"] = N(r.processed_size);
  item["thumbnailSize"] = N(r.thumbnail_size);
  item["width"] = N(r.width);
  item["height"] = N(r.height);
  item["s3Key"] = S(r.s3_key);
  item["s3Bucket"] = S(r.s3_bucket);
  put_opt(item, "thumbnailKey", r.thumbnail_key);
  item["processingStatus"] = S(r.processing_status);
  put_opt(item, "processingError", r.processing_error);
  item["format"] = S(r.format);
  item["quality"] = N(r.quality);
  put_opt(item, "title", r.title);
  put_opt(item, "description", r.description);
  put_opt(item, "altText", r.alt_text);
  json::array tags;
  for (const auto& t : r.tags) tags.push_back(S(t));
  item["tags"] = json::object{{"L", std::move(tags)}};
  item["createdAt"] = S(base::format_iso8601_ms(r.created_at_ms));
  item["updatedAt"] = S(base::format_iso8601_ms(r.updated_at_ms));
  item["uploadedAt"] = S(base::format_iso8601_ms(r.uploaded_at_ms));
  item["version"] = N(r.version);
  put_opt(item, "thumbhash", r.thumbhash);
  put_opt(item, "dominantColor", r.dominant_color);
  if (r.exif) item["exif"] = S(domain::encode_exif(*r.exif));
  put_opt(item, "sha256", r.sha256);
  if (r.variant_keys) {  // kept: vkn (additions so far) marks the item as keeping the list
    item["vkn"] = N(r.variant_rev);
    if (!r.variant_keys->empty()) {  // DynamoDB has no empty sets
      json::array ks;
      for (const auto& k : *r.variant_keys) ks.push_back(json::value(k));
      item["vks"] = json::object{{"SS", std::move(ks)}};
    }
  }
  bool active = r.state == domain::ImageState::Active;
  item["state"] = S(active ? "active" : "deleting");
  item["GSI1PK"] = S(active ? user_pk(r.user_id) : deleting_pk(r.user_id));
  item["GSI1SK"] = S(uploaded_sk(r.uploaded_at_ms, r.id));
  if (active) {
    if (r.album_id) {
      item["GSI2PK"] = S(album_pk(*r.album_id));
      item["GSI2SK"] = S(uploaded_sk(r.uploaded_at_ms, r.id));
    }
    // TakenIndex (sortBy=takenAt) and HashIndex (a user's copies of one file): active only.
    item["GSI3PK"] = S(user_pk(r.user_id));
    item["GSI3SK"] = S(taken_sk(domain::taken_sort_key(r), r.id));
    if (r.sha256) {
      item["GSI4PK"] = S(hash_pk(r.user_id, *r.sha256));
      item["GSI4SK"] = S(uploaded_sk(r.uploaded_at_ms, r.id));
    }
  }
  return item;
}

ImageRecord from_item(const json::object& item) {
  ImageRecord r;
  r.id = req_s(item, "id");
  r.user_id = req_s(item, "userId");
  r.album_id = str_attr(item, "albumId");
  r.original_filename = req_s(item, "originalFilename");
  r.mime_type = req_s(item, "mimeType");
  r.file_size = req_n(item, "fileSize");
  r.processed_size = req_n(item, "processedSize");
  r.thumbnail_size = req_n(item, "thumbnailSize");
  r.width = int(req_n(item, "width"));
  r.height = int(req_n(item, "height"));
  r.s3_key = req_s(item, "s3Key");
  r.s3_bucket = req_s(item, "s3Bucket");
  r.thumbnail_key = str_attr(item, "thumbnailKey");
  r.processing_status = req_s(item, "processingStatus");
  r.processing_error = str_attr(item, "processingError");
  r.format = req_s(item, "format");
  r.quality = int(req_n(item, "quality"));
  r.title = str_attr(item, "title");
  r.description = str_attr(item, "description");
  r.alt_text = str_attr(item, "altText");
  if (auto* t = item.if_contains("tags")) {
    auto* l = t->is_object() ? t->as_object().if_contains("L") : nullptr;
    if (!l || !l->is_array()) bad("tags");
    for (const auto& e : l->as_array()) {
      auto* s = e.is_object() ? e.as_object().if_contains("S") : nullptr;
      if (!s || !s->is_string()) bad("tags");
      r.tags.emplace_back(s->as_string());
    }
  }
  r.created_at_ms = req_time(item, "createdAt");
  r.updated_at_ms = req_time(item, "updatedAt");
  r.uploaded_at_ms = req_time(item, "uploadedAt");
  r.version = req_n(item, "version");
  r.thumbhash = str_attr(item, "thumbhash");
  r.dominant_color = str_attr(item, "dominantColor");
  if (auto ex = str_attr(item, "exif")) {
    r.exif = domain::decode_exif(*ex);
    if (!r.exif) bad("exif");
  }
  r.sha256 = str_attr(item, "sha256");
  if (auto vkn = num_attr(item, "vkn")) {
    r.variant_rev = *vkn;
    r.variant_keys.emplace();
    if (auto* vks = item.if_contains("vks")) {
      auto* ss = vks->is_object() ? vks->as_object().if_contains("SS") : nullptr;
      if (!ss || !ss->is_array()) bad("vks");
      for (const auto& k : ss->as_array()) {
        if (!k.is_string()) bad("vks");
        r.variant_keys->emplace_back(k.as_string());
      }
      std::sort(r.variant_keys->begin(), r.variant_keys->end());
    }
  }
  r.state = req_s(item, "state") == "deleting" ? domain::ImageState::Deleting
                                               : domain::ImageState::Active;
  return r;
}

CounterCell count_cell(const std::string& user_id, const std::optional<std::string>& album,
                       const std::optional<std::string>& tag) {
  std::string pk = "COUNTER#USER#" + user_id;
  if (album && tag) return {pk, album_tag_sk(*album, *tag)};
  if (album) return {pk, "ALBUM#" + *album};
  if (tag) return {pk, "TAG#" + *tag};
  return {pk, "ALL"};
}

std::vector<CounterCell> user_cells(const ImageRecord& r) {
  std::vector<CounterCell> cells{count_cell(r.user_id, std::nullopt, std::nullopt)};
  if (r.album_id) cells.push_back(count_cell(r.user_id, r.album_id, std::nullopt));
  for (const auto& t : r.tags) {
    cells.push_back(count_cell(r.user_id, std::nullopt, t));
    if (r.album_id) cells.push_back(count_cell(r.user_id, r.album_id, t));
  }
  return cells;
}

std::string global_shard_sk(const std::string& image_id) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and platforms, unlike std::hash
  for (unsigned char c : image_id) h = (h ^ c) * 16777619u;
  unsigned shard = h % kGlobalShards;
  std::string sk = "SHARD#00";
  sk[6] = char('0' + shard / 10);
  sk[7] = char('0' + shard % 10);
  return sk;
}

int outbox_shard(const std::string& order_key) {
  uint32_t h = 2166136261u;  // FNV-1a, as global_shard_sk: stable across builds and platforms
  for (unsigned char c : order_key) h = (h ^ c) * 16777619u;
  return int(h % kOutboxShards);
}

std::string outbox_shard_pk(const std::string& target, int shard) {
  std::string pk = "WHK#" + target + "#00";
  pk[pk.size() - 2] = char('0' + shard / 10);
  pk[pk.size() - 1] = char('0' + shard % 10);
  return pk;
}

std::string outbox_pk(const std::string& target, const std::string& order_key) {
  return outbox_shard_pk(target, outbox_shard(order_key));
}

std::string outbox_legacy_pk(const std::string& target) {
  return "WHK#" + target;
}

std::string day_attribute(int64_t unix_ms) {
  return "d:" + base::format_iso8601_ms(unix_ms).substr(0, 10);
}

}  // namespace isvc::storage::dynamo
