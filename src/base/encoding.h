// Byte encodings used across modules: base64url (RFC 4648 §5, no padding), standard base64, hex,
// percent-decoding and the strict decimal counts of headers and signed query strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isvc::base {

std::string base64url_encode(std::string_view bytes);
// Accepts input with or without '=' padding; nullopt on any invalid character or length.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);
// Decodes %XX escapes (either case); nullopt when an escape is malformed or truncated.
std::optional<std::string> percent_decode(std::string_view text);

// A non-negative decimal integer and nothing else: no sign, no spaces, no empty text; nullopt also
// when it does not fit in int64.
std::optional<int64_t> parse_count(std::string_view text);

}  // namespace isvc::base
