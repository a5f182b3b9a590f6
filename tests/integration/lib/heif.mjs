// HEIF test files: real HEIC/AVIF encoded by Debian's heif-enc (x265) and avifenc (libaom) at test
// time, irot/imir added to an encoded file by rewriting its boxes (heif-enc has no option for
// them), and hostile headers built box by box (a single coded item or a grid, with whatever
// properties a test wants).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function onPath(tool) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
export const HAVE_HEIF_TOOLS = onPath('heif-enc') && onPath('avifenc');

const u = (v, n) => {
  const b = Buffer.alloc(n);
  for (let i = n - 1; i >= 0; i--, v = Math.floor(v / 256)) b[i] = v % 256;
  return b;
};
export const box = (type, ...body) => {
  const data = Buffer.concat(body);
  return Buffer.concat([u(8 + data.length, 4), Buffer.from(type, 'latin1'), data]);
};
export const fullBox = (type, version, ...body) => box(type, u(version, 1), u(0, 3), ...body);
export const ispe = (w, h) => fullBox('ispe', 0, u(w, 4), u(h, 4));

// The direct children of buf[start, end): [{ type, start, body, end }] (32-bit sizes only: what
// the encoders write).
export function boxes(buf, start = 0, end = buf.length) {
  const out = [];
  for (let p = start; p + 8 <= end;) {
    const size = buf.readUInt32BE(p) || end - p;
    out.push({ type: buf.toString('latin1', p + 4, p + 8), start: p, body: p + 8, end: p + size });
    p += size;
  }
  return out;
}

function withTemp(f) {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-heif-'));
  try {
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// HEIC from a PNG or JPEG with heif-enc (x265), AVIF with avifenc (libaom, fastest speed).
export function heicFrom(input, args = ['-q', '90']) {
  return withTemp((dir) => {
    const ext = input[0] === 0xff ? 'jpg' : 'png';
    writeFileSync(path.join(dir, `in.${ext}`), input);
    execFileSync('heif-enc', [...args, '-o', path.join(dir, 'out.heic'), path.join(dir, `in.${ext}`)], { stdio: 'pipe' });
    return readFileSync(path.join(dir, 'out.heic'));
  });
}
export function avifFrom(input, args = []) {
  return withTemp((dir) => {
    const ext = input[0] === 0xff ? 'jpg' : 'png';
    writeFileSync(path.join(dir, `in.${ext}`), input);
    execFileSync('avifenc', ['-s', '10', '--min', '10', '--max', '20', ...args, path.join(dir, `in.${ext}`), path.join(dir, 'out.avif')], { stdio: 'pipe' });
    return readFileSync(path.join(dir, 'out.avif'));
  });
}

// `file` with transformative properties (`props`, e.g. [irot(1), imir(0)]) appended to its
// primary item's associations: ipco and ipma grow, so do iprp and meta, and every iloc offset
// into the file moves by as many bytes.
export const irot = (angle) => box('irot', u(angle, 1));
export const imir = (axis) => box('imir', u(axis, 1));
export function withTransforms(file, props) {
  const added = Buffer.concat(props);
  const top = boxes(file);
  const meta = top.find((b) => b.type === 'meta');
  const inner = boxes(file, meta.body + 4, meta.end);
  const primary = file.readUInt16BE(inner.find((b) => b.type === 'pitm').body + 4);
  const parts = [];
  let grow = 0;
  const rebuilt = inner.map((b) => {
    const bytes = file.subarray(b.start, b.end);
    if (b.type !== 'iprp') return bytes;
    const kids = boxes(file, b.body, b.end);
    const ipco = kids.find((k) => k.type === 'ipco');
    const count = boxes(file, ipco.body, ipco.end).length;
    return box('iprp', ...kids.map((k) => {
      if (k.type === 'ipco') return box('ipco', file.subarray(k.body, k.end), added);
      if (k.type !== 'ipma') return file.subarray(k.start, k.end);
      const version = file[k.body], wide = file[k.body + 3] & 1;
      const idBytes = version < 1 ? 2 : 4;
      const entries = [];
      let p = k.body + 8;
      for (let n = file.readUInt32BE(k.body + 4); n > 0; n--) {
        const id = idBytes === 2 ? file.readUInt16BE(p) : file.readUInt32BE(p);
        const assoc = file[p + idBytes];
        const len = idBytes + 1 + assoc * (wide ? 2 : 1);
        let entry = file.subarray(p, p + len);
        if (id === primary) {
          const more = props.map((_, i) => u((wide ? 0x8000 : 0x80) | (count + 1 + i), wide ? 2 : 1));
          entry = Buffer.concat([entry.subarray(0, idBytes), u(assoc + props.length, 1), entry.subarray(idBytes + 1), ...more]);
        }
        entries.push(entry);
        p += len;
      }
      return box('ipma', file.subarray(k.body, k.body + 8), ...entries);
    }));
  });
  const newInner = Buffer.concat(rebuilt);
  grow = newInner.length - (meta.end - meta.body - 4);
  // iloc: each item's base offset, or its extents' offsets, into the file move by `grow`.
  const ilocAt = rebuilt.findIndex((b) => b.toString('latin1', 4, 8) === 'iloc');
  const iloc = Buffer.from(rebuilt[ilocAt]);
  const v = iloc[8];
  const offSize = iloc[12] >> 4, lenSize = iloc[12] & 15, baseSize = iloc[13] >> 4;
  const indexSize = v >= 1 ? iloc[13] & 15 : 0;
  let p = 14;
  const count = v < 2 ? iloc.readUInt16BE(p) : iloc.readUInt32BE(p);
  p += v < 2 ? 2 : 4;
  const bump = (at, n) => {
    if (n === 4) iloc.writeUInt32BE(iloc.readUInt32BE(at) + grow, at);
    else if (n === 8) iloc.writeBigUInt64BE(iloc.readBigUInt64BE(at) + BigInt(grow), at);
  };
  for (let i = 0; i < count; i++) {
    p += v < 2 ? 2 : 4;
    const method = v >= 1 ? iloc.readUInt16BE(p) & 15 : 0;
    if (v >= 1) p += 2;
    p += 2;  // data reference index
    const baseAt = p;
    const base = baseSize ? Number(baseSize === 4 ? iloc.readUInt32BE(p) : iloc.readBigUInt64BE(p)) : 0;
    p += baseSize;
    const extents = iloc.readUInt16BE(p);
    p += 2;
    if (method === 0 && base) bump(baseAt, baseSize);
    for (let e = 0; e < extents; e++) {
      p += indexSize;
      if (method === 0 && !base) bump(p, offSize);
      p += offSize + lenSize;
    }
  }
  rebuilt[ilocAt] = iloc;
  const newMeta = box('meta', file.subarray(meta.body, meta.body + 4), ...rebuilt);
  return Buffer.concat(top.map((b) => (b.type === 'meta' ? newMeta : file.subarray(b.start, b.end))));
}

// A hostile or minimal HEIF: item 1 is a coded image (or a grid of rows x cols coded tiles,
// items 2…) with `props`; 16 zero bytes of coded data in mdat. Nothing here is decodable: the
// service must refuse every such header before a decoder runs, or fail its decode cleanly.
export function heifFile({ brand = 'heic', codec = 'hvc1', props = [ispe(640, 480)], rows = 0, cols = 0, tile = [320, 240], extraMeta = Buffer.alloc(0), meta = true, tail = [] } = {}) {
  const ftyp = box('ftyp', Buffer.from(brand), u(0, 4), Buffer.from('mif1' + brand));
  const n = 1 + rows * cols;
  const infe = [];
  for (let id = 1; id <= n; id++) infe.push(fullBox('infe', 2, u(id, 2), u(0, 2), Buffer.from(id === 1 && rows ? 'grid' : codec), Buffer.alloc(1)));
  const ipco = [...props];
  const ipma = [u(1, 2), u(props.length, 1), ...props.map((_, i) => u(i + 1, 1))];
  let idat = Buffer.alloc(0), iref = Buffer.alloc(0);
  if (rows) {
    ipco.push(ispe(...tile));
    for (let id = 2; id <= n; id++) ipma.push(u(id, 2), u(1, 1), u(ipco.length, 1));
    idat = box('idat', u(0, 2), u(rows - 1, 1), u(cols - 1, 1), u(cols * tile[0], 2), u(rows * tile[1], 2));
    const to = [];
    for (let id = 2; id <= n; id++) to.push(u(id, 2));
    iref = fullBox('iref', 0, box('dimg', u(1, 2), u(n - 1, 2), ...to));
  }
  const build = (mdatData) => {
    const entries = [];
    for (let id = 1; id <= n; id++) {
      const inIdat = id === 1 && rows;
      entries.push(u(id, 2), u(inIdat ? 1 : 0, 2), u(0, 2), u(1, 2), u(inIdat ? 0 : mdatData, 4), u(inIdat ? 8 : 16, 4));
    }
    return fullBox('meta', 0,
      fullBox('hdlr', 0, u(0, 4), Buffer.from('pict'), Buffer.alloc(13)),
      fullBox('pitm', 0, u(1, 2)),
      fullBox('iloc', 1, u(0x4400, 2), u(n, 2), ...entries),
      fullBox('iinf', 0, u(n, 2), ...infe), iref,
      box('iprp', box('ipco', ...ipco), fullBox('ipma', 0, u(n, 4), ...ipma)), idat, extraMeta);
  };
  const m = meta ? build(ftyp.length + build(0).length + 8) : Buffer.alloc(0);
  return Buffer.concat([ftyp, m, box('mdat', Buffer.alloc(16)), ...tail]);
}
