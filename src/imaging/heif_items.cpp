// HEIF: the primary item the box walk found, checked against the brand, the caps and the file:
// its data, its size (ispe, clap, irot), a grid's tiles, the other items' sizes and metadata.
#include "imaging/heif_walker.h"
#include "imaging/sniff.h"

namespace isvc::imaging::heif {

using detail::be32;

// An item's bytes are inside the file (or the idat box); their total, or nullopt.
std::optional<uint64_t> Walker::data_size(const Item& it) {
  uint64_t limit = it.construction == 1 ? (idat ? idat->end - idat->body : 0) : b.size();
  uint64_t total = 0;
  for (const auto& e : it.extents) {
    if (e.offset > limit || e.length > limit - e.offset) {
      truncated("a HEIF item's data lies past the end of the file");
      return std::nullopt;
    }
    total += e.length == 0 ? limit - e.offset : e.length;
  }
  return total;
}

// The bytes of a small item (a grid descriptor), joined from its extents.
// (data_size has checked the extents.)
std::string Walker::item_bytes(const Item& it) {
  std::string out;
  if (it.construction == 1 && !idat) return out;
  std::size_t base = it.construction == 1 ? idat->body : 0;
  std::size_t limit = it.construction == 1 ? idat->end : b.size();
  for (const auto& e : it.extents) {
    std::size_t from = base + std::size_t(e.offset);
    std::size_t len = e.length == 0 ? limit - from : std::size_t(e.length);
    if (out.size() < 64) out.append(b.substr(from, std::min<std::size_t>(len, 64 - out.size())));
  }
  return out;
}

const Box* Walker::prop(const Item& it, std::string_view type) {
  for (uint32_t i : it.props)
    if (props[i - 1].type == type) return &props[i - 1];
  return nullptr;
}

// The ispe of an item: width and height, or false (with a refusal).
bool Walker::ispe(const Item& it, uint64_t& w, uint64_t& h) {
  const Box* p = prop(it, "ispe");
  if (!p) return malformed("a HEIF image item has no ispe (image size) property");
  int v = 0;
  Reader rd = full(*p, v);
  w = rd.u(4);
  h = rd.u(4);
  if (!rd.ok) return truncated("a HEIF ispe property is cut short");
  if (w == 0 || h == 0) return malformed("a HEIF image item has a zero size");
  return true;
}

bool Walker::check_items(domain::ImageFormat format) {
  std::string_view codec = format == domain::ImageFormat::Heic ? "hvc1" : "av01";
  int64_t metadata = 0;
  for (auto& [id, it] : items) {
    for (uint32_t i : it.props)
      if (i > props.size()) return malformed("a HEIF item refers to a missing property");
    if (it.type.empty()) continue;  // associated or located but not listed: never used
    auto size = data_size(it);
    if (!size) return false;
    if (it.type == "Exif" || it.type == "mime") {
      metadata += int64_t(std::min<uint64_t>(*size, uint64_t(1) << 40));
      if (metadata > lim.max_metadata_bytes)
        return refuse(detail::limit("heif_metadata_too_large",
                                    "the HEIF file's metadata (EXIF, XMP) exceeds " +
                                        detail::size_text(lim.max_metadata_bytes)));
    }
    if (const Box* colr = prop(it, "colr"); colr && colr->end - colr->body >= 4) {
      std::string_view kind = b.substr(colr->body, 4);
      auto icc = int64_t(colr->end - colr->body - 4);
      if (kind == "prof" || kind == "rICC") {
        r.stats.icc_bytes = std::max(r.stats.icc_bytes, icc);
        if (icc > lim.max_icc_bytes)
          return refuse(detail::limit(
              "heif_icc_too_large",
              "the HEIF file's ICC profile exceeds " + detail::size_text(lim.max_icc_bytes)));
      }
    }
    if (id == primary) continue;
    if (const Box* p = prop(it, "ispe"); p && p->end - p->body >= 12) {
      uint64_t w = be32(b, p->body + 4), h = be32(b, p->body + 8);
      if (w > uint64_t(lim.max_dimension) || h > uint64_t(lim.max_dimension))
        return refuse(detail::limit("heif_item_too_large",
                                    "a HEIF item (tile, alpha or thumbnail) is larger than " +
                                        std::to_string(lim.max_dimension) + " pixels a side"));
    }
    if ((it.type == "hvc1" || it.type == "av01") && it.type != codec)
      return malformed("the HEIF file's brand does not match the codec of its images");
  }
  return true;
}

bool Walker::check_grid(const Item& grid, uint64_t w, uint64_t h, std::string_view codec) {
  std::string g = item_bytes(grid);
  if (g.size() < 8) return truncated("the HEIF grid descriptor is cut short");
  bool wide = (uint8_t(g[1]) & 1) != 0;
  if (g[0] != 0 || g.size() < (wide ? 12u : 8u))
    return malformed("the HEIF grid descriptor is not version 0");
  uint64_t rows = uint8_t(g[2]) + 1u, cols = uint8_t(g[3]) + 1u;
  uint64_t ow = wide ? be32(g, 4) : uint64_t(uint8_t(g[4])) << 8 | uint8_t(g[5]);
  uint64_t oh = wide ? be32(g, 8) : uint64_t(uint8_t(g[6])) << 8 | uint8_t(g[7]);
  r.stats.tiles = int64_t(rows * cols);
  if (r.stats.tiles > lim.heif_max_tiles)
    return refuse(detail::limit("heif_too_many_tiles",
                                "the HEIF image has " + std::to_string(rows * cols) +
                                    " tiles; at most " + std::to_string(lim.heif_max_tiles) +
                                    " are accepted"));
  if (ow != w || oh != h) return malformed("the HEIF grid's size differs from its ispe");
  auto refs = dimg.find(*primary);
  if (refs == dimg.end() || refs->second.size() != rows * cols)
    return malformed("the HEIF grid's tile count differs from its references");
  uint64_t tw = 0, th = 0;
  for (uint32_t id : refs->second) {
    auto t = items.find(id);
    if (t == items.end() || t->second.type != codec)
      return malformed("a HEIF grid tile is missing or not a coded image of the file's brand");
    if (!t->second.located) return malformed("a HEIF grid tile has no data");
    uint64_t w1 = 0, h1 = 0;
    if (!ispe(t->second, w1, h1)) return false;
    if (tw == 0) tw = w1, th = h1;
    if (w1 != tw || h1 != th) return malformed("the HEIF grid's tiles differ in size");
  }
  // Tiles cover the output, and no tile row or column lies wholly outside it.
  if (cols * tw < ow || (cols - 1) * tw >= ow || rows * th < oh || (rows - 1) * th >= oh)
    return malformed("the HEIF grid's tiles do not fit its size");
  return true;
}

bool Walker::run() {
  domain::ImageFormat format = sniff_format(b);
  if (format != domain::ImageFormat::Heic && format != domain::ImageFormat::Avif) {
    return malformed("not a HEIC or AVIF file");
  }
  bool first = true;
  bool ok = children(0, b.size(), [&](const Box& c) {
    if (first && c.type != "ftyp") return malformed("a HEIF file starts with its ftyp box");
    first = false;
    if (c.type == "meta") return parse_meta(c);
    if (c.type == "moov") moov = true;
    return true;
  });
  if (!ok) return false;
  if (!meta)
    return malformed(moov ? "image sequences without a still image are not accepted"
                          : "the HEIF file has no meta box");
  if (!pict) return malformed("the HEIF meta box does not describe a picture");
  if (!primary) return malformed("the HEIF file has no primary item");
  auto p = items.find(*primary);
  if (p == items.end() || p->second.type.empty())
    return malformed("the HEIF primary item is not in the item list");
  if (!check_items(format)) return false;
  const Item& it = p->second;
  std::string_view codec = format == domain::ImageFormat::Heic ? "hvc1" : "av01";
  if (it.type != codec && it.type != "grid")
    return malformed("the HEIF primary item is a '" + std::string(it.type) +
                     "', not an image coded as the brand says");
  if (!it.located) return malformed("the HEIF primary item has no data");
  uint64_t w = 0, h = 0;
  if (!ispe(it, w, h)) return false;
  r.stats.tiles = 1;
  if (it.type == "grid" && !check_grid(it, w, h, codec)) return false;
  // The transformative properties in their order: clap crops, irot turns, imir keeps the size.
  for (uint32_t i : it.props) {
    const Box& t = props[i - 1];
    Reader rd{b, t.body, t.end};
    if (t.type == "irot") {
      if ((rd.u(1) & 1) != 0) std::swap(w, h);
    } else if (t.type == "clap") {
      uint64_t wn = rd.u(4), wd = rd.u(4), hn = rd.u(4), hd = rd.u(4);
      if (!rd.ok) return truncated("a HEIF clap property is cut short");
      if (wd == 0 || hd == 0 || wn / wd == 0 || hn / hd == 0 || wn / wd > w || hn / hd > h)
        return malformed("a HEIF clean aperture is empty or larger than the image");
      w = wn / wd;
      h = hn / hd;
    }
    if (!rd.ok) return truncated("a HEIF transform property is cut short");
  }
  r.header = HeaderSize{int64_t(w), int64_t(h)};
  return true;
}

}  // namespace isvc::imaging::heif
