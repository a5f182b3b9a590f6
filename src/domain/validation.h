// The field rules of SPEC §2 (upload text fields, tags, albumId, filenames) shared by upload,
// update and import. Each throws Error::validation(field, message) naming the field.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isvc::domain {

struct FieldLimits {
  std::size_t title = 255;
  std::size_t description = 5000;
  std::size_t alt_text = 255;
  std::size_t max_tags = 20;
  std::size_t tag_length = 50;
  std::size_t album_id = 128;
  std::size_t filename = 255;
};

// Lengths are counted in Unicode code points; invalid UTF-8 or control characters (other than
// \n \r \t in description) are refused.
void validate_text(const std::string& field, std::string_view value, std::size_t max_chars,
                   bool multiline = false);
// Trim each, drop empties, de-duplicate keeping first order, then check count and lengths.
std::vector<std::string> normalize_tags(const std::vector<std::string>& raw,
                                        const FieldLimits& limits = {});
// Tags from the three multipart shapes: repeated `tags`, repeated `tags[]`, or one `tags` value
// holding a JSON array of strings. `values` are the raw field values in arrival order.
std::vector<std::string> tags_from_form_values(const std::vector<std::string>& values);
// 1–128 chars of [A-Za-z0-9_-].
void validate_album_id(std::string_view album_id, const FieldLimits& limits = {});
// Strips any path (both / and \), control characters; truncates to 255 code points on a UTF-8
// boundary; empty → "upload".
std::string sanitize_filename(std::string_view raw, const FieldLimits& limits = {});

// Object-key-safe form of a user id (SPEC §12 Keys): [A-Za-z0-9._-] kept, any other byte
// percent-encoded (%XX upper-case), and "." / ".." as a whole id encoded too.
std::string encode_user_id_for_key(std::string_view user_id);
std::string main_object_key(std::string_view user_id, std::string_view image_id);
std::string thumbnail_object_key(std::string_view user_id, std::string_view image_id);

// ISO 8601 UTC with exactly 3 fraction digits: 2025-01-15T10:30:00.000Z
std::string format_iso8601_ms(int64_t unix_ms);
// Accepts 2025-01-15T10:30:00Z, with .s to .sssssssss fraction, or a ±hh:mm offset; nullopt
// otherwise.
std::optional<int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace isvc::domain
