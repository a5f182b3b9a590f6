// PNG without libvips: a decoder for every bit depth, colour type and interlacing (the IDAT
// image), what its colour chunks say, and an encoder for fixtures with chosen chunks.
import { deflateSync, inflateSync } from 'node:zlib';
import { profileDescription } from './icc.mjs';
import { pngChunk as chunk } from './png.mjs';

export function pngChunks(buf) {
  const chunks = [];
  for (let p = 8; p + 12 <= buf.length;) {
    const len = buf.readUInt32BE(p);
    chunks.push({ type: buf.toString('latin1', p + 4, p + 8), data: buf.subarray(p + 8, p + 8 + len) });
    p += 12 + len;
  }
  return chunks;
}

const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function unfilter(type, line, prev, bpp) {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
    let add = 0;
    if (type === 1) add = a;
    else if (type === 2) add = b;
    else if (type === 3) add = (a + b) >> 1;
    else if (type === 4) {
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    line[i] = (line[i] + add) & 0xff;
  }
}

// Any bit depth and colour type, interlaced or not, tRNS applied, 16 bits rounded to 8; the IDAT
// image only (an APNG's first frame when its fcTL precedes IDAT). Colour chunks: see pngColour.
export function decodePng(buf) {
  const chunks = pngChunks(buf);
  const ihdr = chunks.find((c) => c.type === 'IHDR').data;
  const width = ihdr.readUInt32BE(0), height = ihdr.readUInt32BE(4);
  const depth = ihdr[8], ctype = ihdr[9], interlaced = ihdr[12] === 1;
  const plte = chunks.find((c) => c.type === 'PLTE')?.data;
  const trns = chunks.find((c) => c.type === 'tRNS')?.data;
  const spp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[ctype];
  const bpp = Math.max(1, (spp * depth) >> 3);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const data = new Uint8Array(width * height * 4);
  const max = (1 << Math.min(depth, 8)) - 1;
  const scale = (v) => (depth === 16 ? Math.round(v / 257) : depth < 8 ? Math.round((v * 255) / max) : v);
  let off = 0;
  for (const [x0, y0, dx, dy] of interlaced ? ADAM7 : [[0, 0, 1, 1]]) {
    const pw = Math.ceil((width - x0) / dx), ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const stride = Math.ceil((pw * spp * depth) / 8);
    let prev = new Uint8Array(stride);
    for (let y = 0; y < ph; y++) {
      const line = Uint8Array.from(raw.subarray(off + 1, off + 1 + stride));
      unfilter(raw[off], line, prev, bpp);
      off += 1 + stride;
      const sample = (k) => {
        if (depth === 16) return (line[2 * k] << 8) | line[2 * k + 1];
        if (depth === 8) return line[k];
        const bit = k * depth;
        return (line[bit >> 3] >> (8 - depth - (bit & 7))) & max;
      };
      for (let x = 0; x < pw; x++) {
        const o = ((y0 + y * dy) * width + x0 + x * dx) * 4;
        const s = (c) => sample(x * spp + c);
        let px;
        if (ctype === 3) {
          const i = s(0);
          px = [plte[i * 3], plte[i * 3 + 1], plte[i * 3 + 2], trns && i < trns.length ? trns[i] : 255];
        } else if (ctype === 0 || ctype === 4) {
          const key = trns && ctype === 0 && s(0) === trns.readUInt16BE(0);
          px = [scale(s(0)), scale(s(0)), scale(s(0)), ctype === 4 ? scale(s(1)) : key ? 0 : 255];
        } else {
          const key = trns && ctype === 2 && [0, 1, 2].every((c) => s(c) === trns.readUInt16BE(c * 2));
          px = [scale(s(0)), scale(s(1)), scale(s(2)), ctype === 6 ? scale(s(3)) : key ? 0 : 255];
        }
        data.set(px, o);
      }
      prev = line;
    }
  }
  return { width, height, data };
}

const srgbEncode = (l) => (l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055);

// What a PNG's colour chunks say about its pixels, applied to `img`: an iCCP or sRGB chunk that
// names sRGB keeps them; a gAMA that is not ~1/2.2 is honoured (as browsers do). Anything a plain
// decoder cannot reproduce throws, rather than pass for a reference.
export function pngColour(buf, img) {
  const chunks = pngChunks(buf);
  const iccp = chunks.find((c) => c.type === 'iCCP');
  if (iccp) {
    const z = iccp.data.indexOf(0);
    const icc = inflateSync(iccp.data.subarray(z + 2));
    if (!/sRGB|IEC.?61966/.test(profileDescription(icc)))
      throw new Error(`no independent reference for the PNG profile "${profileDescription(icc)}"`);
    return img;
  }
  if (chunks.some((c) => c.type === 'sRGB')) return img;
  const gama = chunks.find((c) => c.type === 'gAMA');
  const chrm = chunks.find((c) => c.type === 'cHRM');
  const grey = img.data.every((v, i) => i % 4 === 3 || v === img.data[i - (i % 4)]);
  if (chrm && !grey) {
    const srgb = [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000];
    if (srgb.some((v, i) => Math.abs(chrm.data.readUInt32BE(4 * i) - v) > 1000))
      throw new Error('no independent reference for cHRM primaries other than sRGB');
  }
  const g = gama ? gama.data.readUInt32BE(0) / 100000 : 0;
  if (!g || Math.abs(g * 2.2 - 1) <= 0.02) return img;
  const lut = Array.from({ length: 256 }, (_, v) => Math.round(255 * srgbEncode((v / 255) ** (1 / g))));
  const data = img.data.map((v, i) => (i % 4 === 3 ? v : lut[v]));
  return { ...img, data };
}

// A PNG of `channels` (1..4) samples of `depth` (8 or 16) bits from pixel(x, y) → [values], with
// extra chunks (e.g. gAMA, eXIf) placed before IDAT.
export function encodePng(width, height, { channels = 3, depth = 8, pixel, chunks = [] }) {
  const bytes = depth / 8, rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * channels * bytes);
    for (let x = 0; x < width; x++) {
      pixel(x, y).forEach((v, c) => {
        const o = 1 + (x * channels + c) * bytes;
        if (depth === 16) row.writeUInt16BE(v, o);
        else row[o] = v;
      });
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    ...chunks.map((c) => chunk(c.type, c.data)),
    chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A big-endian TIFF block holding only an Orientation tag (the body of a PNG eXIf chunk).
export function exifWithOrientation(o) {
  const t = Buffer.alloc(26);
  t.write('MM\0*', 0, 'latin1');
  t.writeUInt32BE(8, 4);
  t.writeUInt16BE(1, 8);
  t.writeUInt16BE(0x0112, 10);
  t.writeUInt16BE(3, 12);
  t.writeUInt32BE(1, 14);
  t.writeUInt16BE(o, 18);
  return t;  // next-IFD offset 0 in the last 4 bytes
}
