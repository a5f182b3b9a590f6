// HEIF (HEIC and AVIF): the ISO-BMFF boxes, every size checked against its parent (64-bit sizes,
// size 0 = to the end), and the meta box's item model: the primary item (pitm), its type and codec
// against the brand, its properties (ispe, clap, irot; colr's ICC size), a grid's tiles (count,
// sizes, coverage), every item's data inside the file (iloc) and the metadata items' sizes. Only
// the boxes of that model are entered, so nesting is bounded by the format (at most meta > iprp >
// ipco > property), however deep a file nests its boxes. Nothing is decoded.
#include <map>
#include <vector>

#include "imaging/container_check.h"
#include "imaging/processing_limits.h"
#include "imaging/sniff.h"

namespace isvc::imaging {

namespace {

using detail::be32;
using detail::be64;

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
bool container_type(std::string_view t) {
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

  bool read_box(std::size_t p, std::size_t end, Box& out) {
    if (end - p < 8) return truncated("a HEIF box header runs past its parent box");
    uint64_t size = be32(b, p);
    std::size_t header = 8;
    if (size == 1) {
      if (end - p < 16) return truncated("a HEIF box header runs past its parent box");
      size = be64(b, p + 8);
      header = 16;
    } else if (size == 0) {
      size = end - p;
    }
    if (size < header) return malformed("a HEIF box is smaller than its header");
    if (size > end - p) return truncated("a HEIF box runs past its parent box or the file");
    if (++r.stats.chunks > lim.max_chunks)
      return refuse(detail::limit(
          "heif_too_many_boxes",
          "the HEIF file has more than " + std::to_string(lim.max_chunks) + " boxes"));
    out = {b.substr(p + 4, 4), p + header, p + std::size_t(size)};
    return true;
  }

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

  // The version of a FullBox, its reader positioned after the flags.
  Reader full(const Box& x, int& version) {
    Reader rd{b, x.body, x.end};
    version = int(rd.u(1));
    rd.u(3);
    return rd;
  }

  bool count_entries(uint64_t n, const char* what) {
    if (n > uint64_t(lim.max_chunks))
      return refuse(
          detail::limit("heif_too_many_boxes", std::string("the HEIF file has more than ") +
                                                   std::to_string(lim.max_chunks) + " " + what));
    return true;
  }

  bool parse_iinf(const Box& x) {
    int v = 0;
    Reader rd = full(x, v);
    rd.u(v == 0 ? 2 : 4);
    if (!rd.ok) return truncated("the HEIF item list is cut short");
    return children(rd.p, x.end, [&](const Box& e) {
      if (e.type != "infe") return !container_type(e.type) || misplaced(e, x);
      int ev = 0;
      Reader er = full(e, ev);
      if (ev < 2) return malformed("a HEIF item entry of version " + std::to_string(ev));
      auto id = uint32_t(er.u(ev == 2 ? 2 : 4));
      er.u(2);  // protection index
      if (!er.ok || er.end - er.p < 4) return truncated("a HEIF item entry is cut short");
      auto& item = items[id];  // (iloc or ipma may have come first)
      if (!item.type.empty()) return malformed("two HEIF items have the id " + std::to_string(id));
      item.type = b.substr(er.p, 4);
      return true;
    });
  }

  bool misplaced(const Box& child, const Box& parent) {
    return malformed("a HEIF " + std::string(child.type) + " box inside a " +
                     std::string(parent.type) + " box");
  }

  bool parse_iprp(const Box& x) {
    return children(x.body, x.end, [&](const Box& c) {
      if (c.type == "ipco") {
        if (!props.empty()) return malformed("the HEIF file has two property containers");
        return children(c.body, c.end, [&](const Box& prop) {
          if (container_type(prop.type)) return misplaced(prop, c);
          props.push_back(prop);
          return true;
        });
      }
      if (container_type(c.type)) return misplaced(c, x);
      if (c.type != "ipma") return true;
      if (c.end - c.body < 4) return truncated("the HEIF property associations are cut short");
      int v = 0;
      Reader rd = full(c, v);
      bool wide = (be32(b, c.body) & 1) != 0;  // flags bit 0: 15-bit property indices
      uint64_t n = rd.u(4);
      if (!count_entries(n, "property associations")) return false;
      for (uint64_t i = 0; i < n && rd.ok; ++i) {
        auto id = uint32_t(rd.u(v < 1 ? 2 : 4));
        uint64_t k = rd.u(1);
        auto& item = items[id];
        for (uint64_t j = 0; j < k && rd.ok; ++j) {
          uint64_t a = rd.u(wide ? 2 : 1);
          uint32_t index = uint32_t(a & (wide ? 0x7FFF : 0x7F));
          if (index != 0) item.props.push_back(index);
        }
        if (item.props.size() > 64) return malformed("a HEIF item has more than 64 properties");
      }
      return rd.ok || truncated("the HEIF property associations are cut short");
    });
  }

  bool parse_iref(const Box& x) {
    int v = 0;
    Reader rd = full(x, v);
    if (!rd.ok) return truncated("the HEIF item references are cut short");
    int id_bytes = v == 0 ? 2 : 4;
    return children(rd.p, x.end, [&](const Box& ref) {
      Reader rr{b, ref.body, ref.end};
      auto from = uint32_t(rr.u(id_bytes));
      uint64_t n = rr.u(2);
      std::vector<uint32_t> to;
      for (uint64_t i = 0; i < n && rr.ok; ++i) to.push_back(uint32_t(rr.u(id_bytes)));
      if (!rr.ok) return truncated("a HEIF item reference is cut short");
      if (ref.type == "dimg") {
        if (dimg.count(from)) return malformed("a HEIF item has two dimg references");
        dimg[from] = std::move(to);
      }
      return true;
    });
  }

  bool parse_iloc(const Box& x) {
    int v = 0;
    Reader rd = full(x, v);
    if (v > 2) return malformed("HEIF iloc version " + std::to_string(v));
    uint64_t sizes = rd.u(2);
    int off_size = int(sizes >> 12), len_size = int(sizes >> 8 & 15);
    int base_size = int(sizes >> 4 & 15), index_size = v >= 1 ? int(sizes & 15) : 0;
    for (int s : {off_size, len_size, base_size, index_size})
      if (s != 0 && s != 4 && s != 8)
        return malformed("a HEIF iloc field size of " + std::to_string(s) + " bytes");
    uint64_t n = rd.u(v < 2 ? 2 : 4);
    if (!count_entries(n, "item locations")) return false;
    uint64_t total_extents = 0;
    for (uint64_t i = 0; i < n && rd.ok; ++i) {
      auto id = uint32_t(rd.u(v < 2 ? 2 : 4));
      int method = v >= 1 ? int(rd.u(2) & 15) : 0;
      uint64_t data_ref = rd.u(2);
      uint64_t base = rd.u(base_size);
      uint64_t extents = rd.u(2);
      auto& item = items[id];
      if (item.located) return malformed("a HEIF item has two locations");
      item.located = true;
      item.construction = method;
      if (method > 1 || data_ref != 0)
        return malformed("a HEIF item's data is not in the file itself");
      // Fields of 0 bytes make an extent cost nothing to declare: counted, not trusted.
      total_extents += extents;
      if (!count_entries(total_extents, "item extents")) return false;
      for (uint64_t e = 0; e < extents && rd.ok; ++e) {
        rd.u(index_size);
        uint64_t off = rd.u(off_size), len = rd.u(len_size);
        if (off > UINT64_MAX - base) return malformed("a HEIF item offset overflows");
        item.extents.push_back({base + off, len});
      }
    }
    return rd.ok || truncated("the HEIF item locations are cut short");
  }

  bool parse_meta(const Box& x) {
    if (meta) return malformed("the HEIF file has two meta boxes");
    meta = true;
    if (x.end - x.body < 4) return truncated("the HEIF meta box is cut short");
    bool seen_pitm = false, seen_iloc = false, seen_iinf = false, seen_iprp = false;
    return children(x.body + 4, x.end, [&](const Box& c) {
      int v = 0;
      if (c.type == "hdlr") {
        Reader rd = full(c, v);
        rd.u(4);
        pict = rd.ok && rd.end - rd.p >= 4 && b.substr(rd.p, 4) == "pict";
        return true;
      }
      auto once = [&](bool& seen) {
        if (seen) return malformed("the HEIF meta box has two " + std::string(c.type) + " boxes");
        seen = true;
        return true;
      };
      if (c.type == "pitm") {
        if (!once(seen_pitm)) return false;
        Reader rd = full(c, v);
        primary = uint32_t(rd.u(v == 0 ? 2 : 4));
        return rd.ok || truncated("the HEIF primary item box is cut short");
      }
      if (c.type == "iinf") return once(seen_iinf) && parse_iinf(c);
      if (c.type == "iprp") return once(seen_iprp) && parse_iprp(c);
      if (c.type == "iloc") return once(seen_iloc) && parse_iloc(c);
      if (c.type == "iref") return parse_iref(c);
      if (c.type == "idat") idat = c;
      if (c.type == "grpl")  // entity groups (altr, ster): boxes of ids, no deeper
        return children(c.body, c.end,
                        [&](const Box& g) { return !container_type(g.type) || misplaced(g, c); });
      if (c.type == "dinf")  // dinf > dref (version, flags, count) > url/urn entries
        return children(c.body, c.end, [&](const Box& d) {
          if (d.type != "dref") return !container_type(d.type) || misplaced(d, c);
          if (d.end - d.body < 8) return truncated("the HEIF dref box is cut short");
          return children(d.body + 8, d.end,
                          [&](const Box& e) { return !container_type(e.type) || misplaced(e, d); });
        });
      if (container_type(c.type)) return misplaced(c, x);
      return true;
    });
  }

  // An item's bytes are inside the file (or the idat box); their total, or nullopt.
  std::optional<uint64_t> data_size(const Item& it) {
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
  std::string item_bytes(const Item& it) {
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

  const Box* prop(const Item& it, std::string_view type) {
    for (uint32_t i : it.props)
      if (props[i - 1].type == type) return &props[i - 1];
    return nullptr;
  }

  // The ispe of an item: width and height, or false (with a refusal).
  bool ispe(const Item& it, uint64_t& w, uint64_t& h) {
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

  bool check_items(domain::ImageFormat format) {
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

  bool check_grid(const Item& grid, uint64_t w, uint64_t h, std::string_view codec) {
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

  bool run() {
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
};

}  // namespace

WalkResult walk_heif(std::string_view bytes, const ProcessingLimits& limits) {
  Walker w{bytes, limits, {}, {}, {}, {}, {}, {}};
  w.run();
  return w.r;
}

}  // namespace isvc::imaging
