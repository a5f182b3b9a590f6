// HEIF (HEIC and AVIF): the ISO-BMFF boxes, every size checked against its parent (64-bit sizes,
// size 0 = to the end), and the meta box's item model: the primary item (pitm), its type and codec
// against the brand, its properties (ispe, clap, irot; colr's ICC size), a grid's tiles (count,
// sizes, coverage), every item's data inside the file (iloc) and the metadata items' sizes. Only
// the boxes of that model are entered, so nesting is bounded by the format (at most meta > iprp >
// ipco > property), however deep a file nests its boxes. Nothing is decoded. This file reads the
// boxes; heif_items.cpp checks the primary item they describe.
#include "imaging/heif_walker.h"
#include "imaging/sniff.h"

namespace isvc::imaging {
namespace heif {

using detail::be32;
using detail::be64;

bool Walker::read_box(std::size_t p, std::size_t end, Box& out) {
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
    return refuse(
        detail::limit("heif_too_many_boxes",
                      "the HEIF file has more than " + std::to_string(lim.max_chunks) + " boxes"));
  out = {b.substr(p + 4, 4), p + header, p + std::size_t(size)};
  return true;
}

// The version of a FullBox, its reader positioned after the flags.
Reader Walker::full(const Box& x, int& version) {
  Reader rd{b, x.body, x.end};
  version = int(rd.u(1));
  rd.u(3);
  return rd;
}

bool Walker::count_entries(uint64_t n, const char* what) {
  if (n > uint64_t(lim.max_chunks))
    return refuse(detail::limit(
        "heif_too_many_boxes",
        std::string("the HEIF file has more than ") + std::to_string(lim.max_chunks) + " " + what));
  return true;
}

bool Walker::parse_iinf(const Box& x) {
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

bool Walker::misplaced(const Box& child, const Box& parent) {
  return malformed("a HEIF " + std::string(child.type) + " box inside a " +
                   std::string(parent.type) + " box");
}

bool Walker::parse_iprp(const Box& x) {
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

bool Walker::parse_iref(const Box& x) {
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

bool Walker::parse_iloc(const Box& x) {
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

bool Walker::parse_meta(const Box& x) {
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

}  // namespace heif

WalkResult walk_heif(std::string_view bytes, const ProcessingLimits& limits) {
  heif::Walker w{bytes, limits, {}, {}, {}, {}, {}, {}};
  w.run();
  return w.r;
}

}  // namespace isvc::imaging
