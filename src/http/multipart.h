// multipart/form-data (RFC 7578) parser over a fully received, size-bounded body. Zero-copy: parts
// refer into the body buffer, which must outlive the result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isvc::http {

struct FormPart {
  std::string name;                     // from Content-Disposition name=
  std::optional<std::string> filename;  // from filename= (or filename*=UTF-8''…), if present
  std::string content_type;             // the part's Content-Type, "" when absent
  std::string_view data;
};

struct MultipartLimits {
  std::size_t max_parts = 64;
  std::size_t max_part_header_bytes = 8 * 1024;
};

// The boundary parameter from a Content-Type header value (quoted or not), nullopt when the type
// is not multipart/form-data or the boundary is missing/invalid (RFC 2046: 1–70 chars).
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Parses the body. Throws domain::Error(BadRequest) with a clear message on malformed input
// (missing closing delimiter, bad part headers, too many parts…). Never reads out of bounds.
std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary,
                                      const MultipartLimits& limits = {});

}  // namespace isvc::http
