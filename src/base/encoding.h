// Byte encodings used across modules: base64url (RFC 4648 §5, no padding), standard base64, hex
// and percent-decoding.
#pragma once

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

}  // namespace isvc::base
