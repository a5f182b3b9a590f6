// Timestamps as the API writes and reads them: ISO 8601 UTC with milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isvc::base {

// ISO 8601 UTC with exactly 3 fraction digits: 2025-01-15T10:30:00.000Z
std::string format_iso8601_ms(int64_t unix_ms);
// Accepts 2025-01-15T10:30:00Z, with .s to .sssssssss fraction, or a ±hh:mm offset; nullopt
// otherwise.
std::optional<int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace isvc::base
