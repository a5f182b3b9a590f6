// Magic-byte sniffing of upload bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/ports/image_processor.h"

namespace isvc::imaging {

using domain::ImageFormat;

// Detects the format from magic bytes only (never from names or declared types).
domain::ImageFormat sniff_format(std::string_view bytes);
const char* mime_type(domain::ImageFormat f);  // "image/jpeg", …
// "only JPEG and PNG images are accepted": the INVALID_FILE_TYPE message for these formats.
std::string accepted_formats_message(const std::vector<domain::ImageFormat>& formats);

}  // namespace isvc::imaging
