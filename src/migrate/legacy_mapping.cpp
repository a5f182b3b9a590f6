#include "migrate/legacy_mapping.h"

#include <boost/json.hpp>

#include "domain/model/error.h"
#include "domain/ulid.h"
#include "domain/validation.h"

namespace isvc::migrate {

namespace json = boost::json;

std::optional<std::vector<std::string>> tags_from_jsonb(const std::optional<std::string>& text,
                                                        std::string& why) {
  std::vector<std::string> out;
  if (!text) return out;
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec) {
    why = "tags: not JSON";
    return std::nullopt;
  }
  auto scalar = [&](const json::value& e) -> bool {
    if (e.is_string())
      out.emplace_back(e.as_string());
    else if (e.is_number() || e.is_bool())
      out.push_back(json::serialize(e));
    else if (!e.is_null())
      return false;
    return true;
  };
  if (v.is_array()) {
    for (const auto& e : v.as_array())
      if (!scalar(e)) {
        why = "tags: nested arrays or objects inside the tag array";
        return std::nullopt;
      }
  } else if (v.is_object()) {
    for (const auto& kv : v.as_object())
      if (!scalar(kv.value())) {
        why = "tags: nested values inside the tag object";
        return std::nullopt;
      }
  } else {
    scalar(v);
  }
  return out;
}

namespace {

// One display field as the migration stores it; records the field's name when it changed.
std::string normalised(const char* field, const std::string& v, bool multiline,
                       std::vector<std::string>& changed) {
  std::string out = domain::strip_invisible(domain::collapse_controls(v, multiline));
  if (out != v && (changed.empty() || changed.back() != field)) changed.push_back(field);
  return out;
}

std::optional<std::string> normalised(const char* field, const std::optional<std::string>& v,
                                      bool multiline, std::vector<std::string>& changed) {
  if (!v) return v;
  return normalised(field, *v, multiline, changed);
}

}  // namespace

std::optional<domain::ImageRecord> map_row(const LegacyRow& row, const std::string& bucket,
                                           std::string& reject_reason, std::string* normalized,
                                           const domain::ImportKeyPolicy& keys) {
  std::string why;
  auto tags = tags_from_jsonb(row.tags_json, why);
  if (!tags) {
    reject_reason = why;
    return std::nullopt;
  }
  if (!row.created_at_ms) {
    reject_reason = "createdAt: NULL";
    return std::nullopt;
  }
  std::vector<std::string> changed;
  domain::LegacyRecord l;
  l.id = row.id;
  l.user_id = row.user_id;
  l.album_id = row.album_id;
  l.original_filename = normalised("originalFilename", row.original_filename, false, changed);
  if (l.original_filename.empty() && !row.original_filename.empty())
    l.original_filename = "upload";  // nothing visible was left: the name of a nameless upload
  l.mime_type = row.mime_type;
  l.file_size = row.file_size;
  l.width = row.width;
  l.height = row.height;
  l.s3_key = row.s3_key;
  l.thumbnail_key = row.thumbnail_key;
  l.title = normalised("title", row.title, false, changed);
  l.description = normalised("description", row.description, true, changed);
  l.alt_text = normalised("altText", row.alt_text, false, changed);
  for (auto& t : *tags) t = normalised("tags", t, false, changed);
  l.tags = std::move(*tags);
  l.created_at_ms = *row.created_at_ms;
  l.updated_at_ms = row.updated_at_ms;
  if (normalized) {
    normalized->clear();
    for (const auto& f : changed) *normalized += (normalized->empty() ? "" : ",") + f;
  }
  try {
    return domain::map_legacy(l, bucket, {}, keys);
  } catch (const domain::Error& e) {
    auto f = e.details().find("field");
    reject_reason = (f == e.details().end() ? "" : f->second + ": ") + e.what();
    return std::nullopt;
  }
}

std::string ulid_to_uuid(const std::string& ulid) {
  static const std::string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  // 26 base-32 digits = 130 bits, the top 2 always zero: accumulate into 128 bits.
  unsigned __int128 v = 0;
  for (char c : ulid) v = (v << 5) | unsigned(alphabet.find(char(std::toupper(c))));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 31; i >= 0; --i) {
    out += hex[int((v >> (i * 4)) & 0xF)];
    if (i == 24 || i == 20 || i == 16 || i == 12) out += '-';
  }
  return out;
}

std::optional<LegacyRow> to_row(const domain::ImageRecord& r, std::string& why) {
  LegacyRow row;
  if (domain::is_uuid(r.id))
    row.id = r.id;
  else if (domain::is_ulid(r.id))
    row.id = ulid_to_uuid(r.id);
  else {
    why = "id is neither a UUID nor a ULID";
    return std::nullopt;
  }
  if (!domain::is_uuid(r.user_id)) {
    why = "userId '" + r.user_id + "' is not a UUID (the legacy column is)";
    return std::nullopt;
  }
  if (r.album_id && !domain::is_uuid(*r.album_id)) {
    why = "albumId '" + *r.album_id + "' is not a UUID (the legacy column is)";
    return std::nullopt;
  }
  row.user_id = r.user_id;
  row.album_id = r.album_id;
  row.original_filename = r.original_filename;
  row.mime_type = r.mime_type;
  row.file_size = r.file_size;
  if (r.width > 0 && r.height > 0) {
    row.width = r.width;
    row.height = r.height;
  }
  row.s3_key = r.s3_key;
  row.thumbnail_key = r.thumbnail_key;
  row.title = r.title;
  row.description = r.description;
  row.alt_text = r.alt_text;
  json::array tags;
  for (const auto& t : r.tags) tags.emplace_back(t);
  row.tags_json = json::serialize(tags);
  row.created_at_ms = r.created_at_ms;
  row.updated_at_ms = r.updated_at_ms;
  return row;
}

}  // namespace isvc::migrate
