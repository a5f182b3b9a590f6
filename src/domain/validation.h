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
// \n \r \t in description) are refused. U+2028/U+2029 are line breaks: refused like \n in
// single-line fields, kept in description.
void validate_text(const std::string& field, std::string_view value, std::size_t max_chars,
                   bool multiline = false);

// Display fields (title, description, altText, tags, originalFilename) lose the invisible format
// characters that reorder or hide text ("photo\u202Egpj.exe" shows as "photoexe.jpg"): the bidi
// controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069; the invisible separators and
// operators U+200B, U+2060-U+2064, U+180E, U+FEFF; the deprecated format controls U+206A-U+206F;
// the interlinear annotation controls U+FFF9-U+FFFB; the soft hyphen U+00AD; the musical
// formatting controls U+1D173-U+1D17A and the language tag U+E0001. Kept: ZWNJ/ZWJ (U+200C,
// U+200D: scripts and emoji sequences), variation selectors and the tag characters
// U+E0020-U+E007F (flag sequences). Invalid UTF-8 is left as it is, for validate_text to refuse.
std::string strip_invisible(std::string_view text);

// Legacy text that the old system accepted (the migration): each run of control characters (C0,
// DEL, C1, U+2028, U+2029) becomes one space and, when anything was replaced, the value is
// trimmed; with `multiline`, \n \r \t (and U+2028/U+2029) are kept and only the other controls
// are replaced, without trimming. Invalid UTF-8 is left for validate_text to refuse.
std::string collapse_controls(std::string_view text, bool multiline);
// Trim each, drop empties, de-duplicate keeping first order, then check count and lengths.
std::vector<std::string> normalize_tags(const std::vector<std::string>& raw,
                                        const FieldLimits& limits = {});
// Tags from the three multipart shapes: repeated `tags`, repeated `tags[]`, or one `tags` value
// holding a JSON array of strings. `values` are the raw field values in arrival order.
std::vector<std::string> tags_from_form_values(const std::vector<std::string>& values);
// 1–128 chars of [A-Za-z0-9_-].
void validate_album_id(std::string_view album_id, const FieldLimits& limits = {});
// Strips any path (both / and \), control and invisible format characters; truncates to 255 code
// points on a UTF-8 boundary; empty → "upload".
std::string sanitize_filename(std::string_view raw, const FieldLimits& limits = {});

}  // namespace isvc::domain
