// Image bombs built at test time (issue 11): small files whose decoding costs far more than their
// size suggests. Each is a well-formed container that today's decoders would accept.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDeflate, deflateSync } from 'node:zlib';
import { makePng, pngChunk } from './png.mjs';

const MiB = 1024 * 1024;

// Inserts chunks right after IHDR (8-byte signature + 25-byte IHDR chunk), where a decoder reads
// them while it reads the header.
function afterIhdr(png, chunks) {
  return Buffer.concat([png.subarray(0, 33), ...chunks, png.subarray(33)]);
}

// 200x200 PNG with `count` compressed text chunks (zTXt or iTXt) that inflate to `each` bytes
// apiece: 100 x 5 MB is the 490 KB file that inflates to 500 MB.
export function pngTextBomb(type = 'zTXt', { count = 100, each = 5_000_000 } = {}) {
  const text = deflateSync(Buffer.alloc(each, 'a'), { level: 9 });
  const head = type === 'zTXt'
    ? Buffer.from('Comment\0\0', 'latin1')             // keyword, NUL, method 0
    : Buffer.from('Comment\0\x01\x00\0\0', 'latin1');  // keyword, compressed, method 0, no lang/translation
  const chunk = pngChunk(type, Buffer.concat([head, text]));
  return afterIhdr(makePng(200, 200), Array(count).fill(chunk));
}

// A zlib stream of `total` zero bytes, compressed while streaming (never held inflated).
async function deflateZeros(total) {
  const z = createDeflate({ level: 9 });
  const out = [];
  z.on('data', (d) => out.push(d));
  const done = new Promise((resolve, reject) => { z.on('end', resolve); z.on('error', reject); });
  const block = Buffer.alloc(MiB);
  for (let left = total; left > 0; left -= block.length) {
    if (!z.write(left >= block.length ? block : block.subarray(0, left)))
      await new Promise((resolve) => z.once('drain', resolve));
  }
  z.end();
  await done;
  return Buffer.concat(out);
}

// 200x200 PNG whose iCCP profile inflates to `inflated` bytes (256 MiB from ~250 KB): the header
// declares that size, so nothing short of inflating the whole stream tells it apart from a real
// (if huge) profile.
export async function pngIccBomb(inflated = 256 * MiB) {
  const z = await deflateZeros(inflated);
  // The first bytes of the inflated profile are zeros too: a profile header would have to be
  // compressed in front, which makes no difference to the cost of inflating the rest.
  const chunk = pngChunk('iCCP', Buffer.concat([Buffer.from('bomb\0\0', 'latin1'), z]));
  return afterIhdr(makePng(200, 200), [chunk]);
}

// Markers of a JPEG: [{ marker, start, end }] for every segment and scan (a scan's `end` is the
// next marker after its entropy-coded data).
function jpegSegments(b) {
  const segs = [];
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) throw new Error(`no marker at ${p}`);
    const marker = b[p + 1];
    if (marker === 0xd9) break;
    const len = b.readUInt16BE(p + 2);
    let end = p + 2 + len;
    if (marker === 0xda) {
      while (end + 1 < b.length && !(b[end] === 0xff && b[end + 1] !== 0 && (b[end + 1] < 0xd0 || b[end + 1] > 0xd7))) end++;
    }
    segs.push({ marker, start: p, end });
    p = end;
  }
  return segs;
}

// An 8000x8000 grey progressive JPEG (made by the vips CLI) followed by `repeats` copies of one
// of its AC scans: every copy makes the decoder revisit all one million blocks. The copies are
// relabelled as first scans with no point transform (Ah = Al = 0) and placed after the last
// refinement, where every coefficient's precision is already 0: each one is then a consistent
// progression step, so libjpeg raises no warning (libvips gives up after 100 of them).
export function jpegScanBomb(repeats = 3000) {
  const b = vipsJpeg('[interlace,strip]', ['black', '8000', '8000']);
  const scans = jpegSegments(b).filter((s) => s.marker === 0xda);
  const spectral = (s) => s.start + 5 + 2 * b[s.start + 4];  // Ss; then Se, Ah/Al
  // A first AC scan (Ss > 0, Ah = 0): its entropy data is a few EOB runs, about 100 bytes.
  const ac = scans.find((s) => b[spectral(s)] > 0 && b[spectral(s) + 2] >> 4 === 0);
  const one = Buffer.from(b.subarray(ac.start, ac.end));
  one[spectral(ac) - ac.start + 2] = 0;
  const eoi = b.length - 2;
  return Buffer.concat([b.subarray(0, eoi), ...Array(repeats).fill(one), b.subarray(eoi)]);
}

function riffChunk(id, data) {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

const u24 = (v) => Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);

// The smallest lossless bitstream for a w x h image of one colour: five prefix codes of one
// symbol each, so that every pixel takes zero bits. Bits, LSB first: width-1, height-1 (14 bits
// each), alpha, version (3); no transform, no colour cache, no meta codes; then per code: simple
// code (1), one symbol (0), 1-bit symbol (0), symbol 0.
export function vp8l(w, h) {
  const bits = [];
  const put = (v, n) => { for (let i = 0; i < n; i++) bits.push((v >> i) & 1); };
  put(w - 1, 14); put(h - 1, 14); put(0, 1); put(0, 3);
  put(0, 3);
  for (let i = 0; i < 5; i++) { put(1, 1); put(0, 1); put(0, 1); put(0, 1); }
  const out = Buffer.alloc(1 + Math.ceil(bits.length / 8));
  out[0] = 0x2f;
  bits.forEach((b, i) => { out[1 + (i >> 3)] |= b << (i & 7); });
  return out;
}

function riff(chunks) {
  const body = Buffer.concat([Buffer.from('WEBP'), ...chunks]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

// A 200x200 lossless WebP (simple format) followed by `count` empty unknown chunks: the demuxer
// keeps a record of each (1.2 million of them: +131 MB of RSS).
export function webpChunkBomb(count = 200_000, { width = 200, height = 200 } = {}) {
  return riff([riffChunk('VP8L', vp8l(width, height)), ...Array(count).fill(riffChunk('ABCD', Buffer.alloc(0)))]);
}

// An animated WebP on a `width` x `height` canvas with `frames` 1x1 frames (40 bytes each).
export function webpFrameBomb(frames = 20_000, { width = 200, height = 200 } = {}) {
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), u24(width - 1), u24(height - 1)]);
  const anim = Buffer.from([0, 0, 0, 0, 0, 0]);  // background colour, loop count 0
  const frame = riffChunk('ANMF', Buffer.concat([
    u24(0), u24(0), u24(0), u24(0), u24(100), Buffer.from([0]),  // x/2, y/2, w-1, h-1, duration, flags
    riffChunk('VP8L', vp8l(1, 1)),
  ]));
  return riff([riffChunk('VP8X', vp8x), riffChunk('ANIM', anim), ...Array(frames).fill(frame)]);
}

// A JPEG made by the vips CLI (`vipsArgs` after the output name), read back.
function vipsJpeg(name, vipsArgs) {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-bomb-'));
  try {
    const file = path.join(dir, 'x.jpg');
    execFileSync('vips', [vipsArgs[0], `${file}${name}`, ...vipsArgs.slice(1)]);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A 200x200 JPEG with `count` empty APP1 segments after SOI: libjpeg appends every saved marker
// by walking its list, so the cost is quadratic (30,000: 8 s; 100,000: 86 s of CPU).
export function jpegSegmentBomb(count = 30_000) {
  const jpg = vipsJpeg('[strip]', ['black', '200', '200']);
  const app1 = Buffer.from([0xff, 0xe1, 0x00, 0x02]);
  return Buffer.concat([jpg.subarray(0, 2), Buffer.concat(Array(count).fill(app1)), jpg.subarray(2)]);
}

// Legitimate neighbours of the bombs: what the caps must let through.
export function legitPngWithText() {
  const chunks = [0, 1, 2].map(() => pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.alloc(200_000, 'x'))])));
  return afterIhdr(makePng(200, 200), chunks);
}
export const legitProgressiveJpeg = () => vipsJpeg('[interlace]', ['black', '400', '300', '--bands', '3']);
export const legitAnimatedWebp = () => webpFrameBomb(3);
export const legitLosslessWebp = () => webpChunkBomb(3);
