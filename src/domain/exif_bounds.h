// What of an original's EXIF the service keeps (docs/exif.md, docs/security.md "EXIF facts and
// duplicates"): the reader's raw facts bounded and sanitised; GPS only when EXIF_KEEP_GPS is on.
#pragma once

#include <cstddef>
#include <optional>

#include "domain/model/exif_facts.h"

namespace isvc::domain {

constexpr std::size_t kMaxExifText = 64;  // code points of make, model, lens

// Strings lose control and invisible format characters (as titles do), are trimmed and cut to
// kMaxExifText code points; invalid UTF-8, empty strings and implausible numbers are dropped,
// never refused; a taken_at that is not a real date and time is dropped. GPS is rounded to 4
// decimals (about 11 m) when keep_gps, else removed. nullopt when nothing is left.
std::optional<ExifFacts> bound_exif(ExifFacts raw, bool keep_gps);

}  // namespace isvc::domain
