// An image record as one compact JSON document, for caches that keep records as text (the Redis
// metadata cache). Every field round-trips; decode refuses anything that is not such a document.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/model/image_record.h"

namespace isvc::domain {

std::string encode_record(const ImageRecord& r);
std::optional<ImageRecord> decode_record(std::string_view text);

}  // namespace isvc::domain
