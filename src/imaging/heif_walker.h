// The HEIF box walker's internals, shared by heif_walk.cpp (boxes, the meta box's item model)
// and heif_items.cpp (the primary item, grids, transforms); container_check.h is the interface.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imaging/container_check.h"
#include "imaging/processing_limits.h"

namespace isvc::imaging::heif {

struct Box {
  std::string_view type;
  std::size_t body = 0;  // first byte after the header
  std::size_t end = 0;   // one past the last byte
};

// Big-endian fields inside [p, end): a read past `end` fails the reader instead of reading.
struct Reader {
  std::string_view b;
  std::size_t p, end;
  bool ok = true;
  uint64_t u(int bytes) {
    if (!ok || end - p < std::size_t(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | uint8_t(b[p + i]);
    p += bytes;
    return v;
  }
};

// Boxes libheif parses as containers of boxes: one found where the item model does not expect it
// is refused, so that no file can make a box parser recurse without bound.
inline bool container_type(std::string_view t) {
  for (const char* c : {"meta", "iprp", "ipco", "iinf", "iref", "dinf", "dref", "grpl", "infe"})
    if (t == c) return true;
  return false;
}

struct Extent {
  uint64_t offset = 0, length = 0;
};

struct Item {
  std::string_view type;
  std::vector<uint32_t> props;  // 1-based ipco indices, in ipma order
  int construction = 0;         // iloc construction_method; -1 without an iloc entry
  std::vector<Extent> extents;
  bool located = false;
};

// One walk over one file: what the meta box declared, and the first refusal.
struct Walker {
  std::string_view b;
  const ProcessingLimits& lim;
  WalkResult r;
  std::vector<Box> props;  // ipco children
  std::map<uint32_t, Item> items;
  std::map<uint32_t, std::vector<uint32_t>> dimg;  // grid item → tiles, in order
  std::optional<uint32_t> primary;
  std::optional<Box> idat;
  bool meta = false, pict = false, moov = false;

  bool refuse(ContainerRefusal c) {
    if (!r.refusal) r.refusal = std::move(c);
    return false;
  }
  bool malformed(std::string m) { return refuse(detail::structure("malformed_container", m)); }
  bool truncated(std::string m) { return refuse(detail::structure("truncated_container", m)); }

  // Calls f(box) for each child of [p, end); false as soon as a box or f fails.
  template <class F>
  bool children(std::size_t p, std::size_t end, F f) {
    while (p < end) {
      Box c;
      if (!read_box(p, end, c) || !f(c)) return false;
      p = c.end;
    }
    return true;
  }

  bool read_box(std::size_t p, std::size_t end, Box& out);
  // The version of a FullBox, its reader positioned after the flags.
  Reader full(const Box& x, int& version);
  bool count_entries(uint64_t n, const char* what);
  bool parse_iinf(const Box& x);
  bool misplaced(const Box& child, const Box& parent);
  bool parse_iprp(const Box& x);
  bool parse_iref(const Box& x);
  bool parse_iloc(const Box& x);
  bool parse_meta(const Box& x);
  // An item's bytes are inside the file (or the idat box); their total, or nullopt.
  std::optional<uint64_t> data_size(const Item& it);
  // The first 64 bytes of a small item (a grid descriptor), after data_size checked it.
  std::string item_bytes(const Item& it);
  const Box* prop(const Item& it, std::string_view type);
  // The ispe of an item: width and height, or false (with a refusal).
  bool ispe(const Item& it, uint64_t& w, uint64_t& h);
  bool check_items(domain::ImageFormat format);
  bool check_grid(const Item& grid, uint64_t w, uint64_t h, std::string_view codec);
  // The whole walk; r.header is set when nothing was refused.
  bool run();
};

}  // namespace isvc::imaging::heif
