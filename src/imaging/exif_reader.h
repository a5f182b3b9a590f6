// The camera facts of an EXIF block (the APP1 payload libvips attaches as "exif-data"), read with
// libexif's typed entries. Raw facts: domain::bound_exif decides what is kept.
#pragma once

#include <string_view>

#include "domain/model/exif_facts.h"

namespace isvc::imaging {

// Never throws for bad input: a malformed block or entry yields fewer (or no) facts.
domain::ExifFacts read_exif(std::string_view exif_block);

// The EXIF block of a PNG text chunk in ImageMagick's "Raw profile type exif" form (a name line,
// a decimal length, then the bytes in hex), which PNGs from ImageMagick carry instead of eXIf;
// empty when `text` is not of that form.
std::string raw_profile_bytes(std::string_view text);

// That text from a PNG's tEXt or zTXt chunk keyed "Raw profile type exif" (libvips hands zTXt
// text over still compressed), inflated to at most `max_text` bytes; empty when there is none.
// The container walk has already bounded the PNG's chunks and inflated metadata.
std::string png_raw_profile_text(std::string_view png, std::size_t max_text);

}  // namespace isvc::imaging
