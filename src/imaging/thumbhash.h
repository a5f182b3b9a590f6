// Image placeholders from the RGBA pixels of a small (at most 100x100) image: the ThumbHash (a
// ~25-byte DCT summary a browser decodes into a blurred preview of the right aspect ratio, the
// format of npm `thumbhash`) and the dominant colour. Pure functions: no libvips, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace isvc::imaging {

inline constexpr int kThumbHashMaxSide = 100;

// The ThumbHash bytes of a w x h image given as row-major, non-premultiplied RGBA (w*h*4 bytes):
// byte for byte what npm thumbhash 0.1.1's rgbaToThumbHash returns for the same pixels under
// Node (whose Math.cos this file reproduces to the bit). Throws std::invalid_argument when w or h
// is outside 1..100 or rgba has the wrong size.
std::string thumbhash_from_rgba(int w, int h, std::span<const uint8_t> rgba);

// The colour a gallery fills an image's box with: the most populated cell of a histogram of 8
// levels per channel (512 cells), each pixel weighted by its alpha, given as the alpha-weighted
// mean of the pixels in that cell ("#rrggbb", lower case). The mean rather than the cell's centre
// keeps a uniform image's exact colour; ties go to the lower cell. nullopt when every pixel is
// transparent. Same argument rules as thumbhash_from_rgba.
std::optional<std::string> dominant_color(int w, int h, std::span<const uint8_t> rgba);

}  // namespace isvc::imaging
