// Pure helpers for file delivery: key decoding with traversal refusal, HTTP dates, conditional
// request evaluation and single-range parsing (RFC 9110 §13, §14). Unit-tested on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace isvc::api {

// Percent-decodes the key from the URL path and refuses anything that is not a plain relative
// key under images/ (no empty, `.` or `..` segments, no backslash, NUL or control bytes).
std::optional<std::string> decode_file_key(std::string_view raw);
// Percent-encodes a stored key for use in a URL path ('/' kept, unreserved kept).
std::string encode_key_for_url(std::string_view key);
// The same, appended to `out` (runs of kept bytes are copied whole).
void append_key_for_url(std::string& out, std::string_view key);

std::string format_http_date(int64_t unix_s);
std::optional<int64_t> parse_http_date(std::string_view text);

// True when If-None-Match matches the ETag (weak comparison, or "*"), or, without
// If-None-Match, when If-Modified-Since is not older than the last modification.
bool not_modified(const http::Request& req, std::string_view etag, int64_t last_modified_s);
// If-Range: a Range applies only when If-Range is absent or equals the current strong ETag.
bool range_applies(const http::Request& req, std::string_view etag);

enum class RangeKind { Ignore, Satisfiable, Unsatisfiable };
struct RangeResult {
  RangeKind kind = RangeKind::Ignore;
  int64_t first = 0;
  int64_t last = 0;
};
// One `bytes=` range (first-last, first-, -suffix). Multiple ranges or another unit → Ignore
// (serve the whole object); a syntactically valid range outside the object → Unsatisfiable.
RangeResult parse_single_range(std::string_view header, int64_t size);

}  // namespace isvc::api
