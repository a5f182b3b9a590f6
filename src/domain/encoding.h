// Byte encodings used across modules: base64url (RFC 4648 §5, no padding), standard base64, hex,
// and the hashes/MACs the service needs (OpenSSL underneath).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace isvc::domain {

std::string base64url_encode(std::string_view bytes);
// Accepts input with or without '=' padding; nullopt on any invalid character or length.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);
// Decodes %XX escapes (either case); nullopt when an escape is malformed or truncated.
std::optional<std::string> percent_decode(std::string_view text);

std::string sha256(std::string_view bytes);                            // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
// Constant-time comparison for MACs and secrets.
bool constant_time_equal(std::string_view a, std::string_view b);
// Cryptographically secure random bytes.
std::string random_bytes(std::size_t n);

}  // namespace isvc::domain
