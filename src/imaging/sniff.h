// Magic-byte sniffing of upload bytes.
#pragma once

#include <string_view>

#include "domain/ports/image_processor.h"

namespace isvc::imaging {

using domain::ImageFormat;

// Detects the format from magic bytes only (never from names or declared types).
domain::ImageFormat sniff_format(std::string_view bytes);
const char* mime_type(domain::ImageFormat f);  // "image/jpeg", …

}  // namespace isvc::imaging
