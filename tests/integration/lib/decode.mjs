// Decodes files without libvips, to check the service's outputs against: libjpeg-turbo's djpeg,
// Little CMS's jpgicc (colour management), libwebp's dwebp and webpmux, and png-codec.mjs; reads
// the JPEG segments and EXIF orientation they need. Also encodes JPEG fixtures with cjpeg.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { srgbProfile } from './icc.mjs';
import { view } from './pixels.mjs';
import { decodePng, pngChunks, pngColour } from './png-codec.mjs';
import { inspectWebp } from './webp.mjs';

// Debian packages liblcms2-utils, libjpeg-turbo-progs and webp (scripts/install-deps.sh).
const TOOLS = ['djpeg', 'cjpeg', 'jpgicc', 'dwebp', 'webpmux'];
const onPath = (t) => {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
export const MISSING_TOOLS = TOOLS.filter((t) => !onPath(t));

function withTemp(fn) {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-px-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const run = (cmd, args, input) =>
  execFileSync(cmd, args, { input, maxBuffer: 512 << 20, stdio: ['pipe', 'pipe', 'pipe'] });

function rgba(width, height, channels, sample) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const g = sample(i, 0);
    data[i * 4] = g;
    data[i * 4 + 1] = channels >= 3 ? sample(i, 1) : g;
    data[i * 4 + 2] = channels >= 3 ? sample(i, 2) : g;
    data[i * 4 + 3] = channels === 2 ? sample(i, 1) : channels === 4 ? sample(i, 3) : 255;
  }
  return { width, height, data };
}

// P5, P6 (djpeg) and P7 (dwebp -pam), 8 or 16 bits.
export function readPnm(buf) {
  const magic = buf.toString('latin1', 0, 2);
  let width, height, channels, maxval, p;
  if (magic === 'P7') {
    const end = buf.indexOf('ENDHDR\n');
    const h = Object.fromEntries(buf.toString('latin1', 3, end).split('\n').map((l) => l.split(' ')));
    [width, height, channels, maxval, p] = [+h.WIDTH, +h.HEIGHT, +h.DEPTH, +h.MAXVAL, end + 7];
  } else {
    const nums = [];
    p = 2;
    while (nums.length < 3) {
      while (/\s/.test(String.fromCharCode(buf[p]))) p++;
      if (buf[p] === 0x23) {
        while (buf[p] !== 10) p++;
        continue;
      }
      const s = p;
      while (!/\s/.test(String.fromCharCode(buf[p]))) p++;
      nums.push(+buf.toString('latin1', s, p));
    }
    p++;
    [width, height, maxval] = nums;
    channels = magic === 'P6' ? 3 : 1;
  }
  const px = buf.subarray(p);
  if (maxval > 255) return rgba(width, height, channels, (i, c) => Math.round(px.readUInt16BE((i * channels + c) * 2) / 257));
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, s = 0, d = 0; i < width * height; i++, s += channels, d += 4) {
    data[d] = px[s];
    data[d + 1] = channels >= 3 ? px[s + 1] : px[s];
    data[d + 2] = channels >= 3 ? px[s + 2] : px[s];
    data[d + 3] = channels === 4 ? px[s + 3] : channels === 2 ? px[s + 1] : 255;
  }
  return { width, height, data };
}

// JPEG segments before the scan data: [{ marker, data }].
export function jpegSegments(buf) {
  const segs = [];
  for (let p = 2; p + 4 <= buf.length && buf[p] === 0xff;) {
    const marker = buf[p + 1];
    if (marker === 0xda || marker === 0xd9) break;
    const len = buf.readUInt16BE(p + 2);
    segs.push({ marker, data: buf.subarray(p + 4, p + 2 + len) });
    p += 2 + len;
  }
  return segs;
}

export function jpegIcc(buf) {
  const parts = jpegSegments(buf)
    .filter((s) => s.marker === 0xe2 && s.data.toString('latin1', 0, 12) === 'ICC_PROFILE\0')
    .sort((a, b) => a.data[12] - b.data[12]);
  return parts.length ? Buffer.concat(parts.map((s) => s.data.subarray(14))) : null;
}

const jpegSof = (buf) => jpegSegments(buf).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(s.marker));

export function jpegComponents(buf) {
  return jpegSof(buf)?.data[5] ?? 0;
}

// djpeg's DCT scaling for a large JPEG: the result stays at least `min` on its longer side, and
// decoding 12 MP photos for a 32x32-cell comparison stays fast.
function jpegScale(buf, min = 1024) {
  const sof = jpegSof(buf);
  const side = sof ? Math.max(sof.data.readUInt16BE(1), sof.data.readUInt16BE(3)) : 0;
  let k = 1;
  while (k < 8 && side / (k * 2) >= min) k *= 2;
  return ['-scale', `1/${k}`];
}

// IFD0 of a TIFF block: Map of tag → the entry's first SHORT value.
function tiffIfd0(t) {
  const le = t.toString('latin1', 0, 2) === 'II';
  const u16 = (o) => (le ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o) => (le ? t.readUInt32LE(o) : t.readUInt32BE(o));
  const ifd = u32(4), tags = new Map();
  for (let i = 0, n = u16(ifd); i < n; i++) tags.set(u16(ifd + 2 + i * 12), u16(ifd + 2 + i * 12 + 8));
  return tags;
}

function tiffOrientation(t) {
  const o = tiffIfd0(t).get(0x0112);
  return o >= 1 && o <= 8 ? o : 1;
}

// The IFD0 tags of a JPEG's EXIF (0x8825: a GPS IFD); empty without EXIF.
export function jpegExifTags(buf) {
  const app1 = jpegSegments(buf).find((s) => s.marker === 0xe1 && s.data.toString('latin1', 0, 6) === 'Exif\0\0');
  return app1 ? [...tiffIfd0(app1.data.subarray(6)).keys()] : [];
}

// The EXIF Orientation of a JPEG (APP1), PNG (eXIf) or WebP (EXIF chunk); 1 when there is none.
export function exifOrientation(buf) {
  try {
    if (buf[0] === 0xff && buf[1] === 0xd8) {
      const app1 = jpegSegments(buf).find((s) => s.marker === 0xe1 && s.data.toString('latin1', 0, 6) === 'Exif\0\0');
      return app1 ? tiffOrientation(app1.data.subarray(6)) : 1;
    }
    if (buf.readUInt32BE(0) === 0x89504e47) {
      const exif = pngChunks(buf).find((c) => c.type === 'eXIf');
      return exif ? tiffOrientation(exif.data) : 1;
    }
    if (buf.toString('latin1', 8, 12) === 'WEBP') {
      for (let p = 12; p + 8 <= buf.length;) {
        const id = buf.toString('latin1', p, p + 4), len = buf.readUInt32LE(p + 4);
        if (id === 'EXIF') {
          const d = buf.subarray(p + 8, p + 8 + len);
          return tiffOrientation(d.toString('latin1', 0, 6) === 'Exif\0\0' ? d.subarray(6) : d);
        }
        p += 8 + len + (len & 1);
      }
    }
  } catch {
    // Unreadable EXIF means no orientation, as for libvips.
  }
  return 1;
}

export function decodeWebp(buf) {
  return withTemp((dir) => {
    let file = path.join(dir, 'in.webp');
    writeFileSync(file, buf);
    if (inspectWebp(buf).animated) {
      run('webpmux', ['-get', 'frame', '1', file, '-o', path.join(dir, 'f1.webp')]);
      file = path.join(dir, 'f1.webp');
    }
    return readPnm(run('dwebp', ['-quiet', '-pam', file, '-o', '-']));
  });
}

// Decoded with djpeg; when the file carries an ICC profile or is CMYK, first converted to sRGB
// by jpgicc, with `inputProfile` for CMYK without one. Perceptual intent (jpgicc's default; a
// matrix/TRC profile gives the same with any intent), into a v2 sRGB profile written from the
// standard: lcms's built-in one is v4, and v2 → v4 perceptual moves black by several levels,
// which would make every v2 CMYK profile look tinted.
export function decodeJpeg(buf, { inputProfile = null } = {}) {
  return withTemp((dir) => {
    let file = path.join(dir, 'in.jpg');
    writeFileSync(file, buf);
    if (jpegIcc(buf) || jpegComponents(buf) === 4 || inputProfile) {
      writeFileSync(path.join(dir, 'srgb.icc'), srgbProfile());
      const args = ['-q100', '-t0', `-o${path.join(dir, 'srgb.icc')}`];
      if (inputProfile) {
        writeFileSync(path.join(dir, 'in.icc'), inputProfile);
        args.push(`-i${path.join(dir, 'in.icc')}`);
      }
      run('jpgicc', [...args, file, path.join(dir, 'srgb.jpg')]);
      file = path.join(dir, 'srgb.jpg');
    }
    return readPnm(run('djpeg', ['-pnm', ...jpegScale(buf), file]));
  });
}

// The sRGB pixels a file holds, decoded without libvips (not yet upright: see reference).
export function decodeFile(buf, opts = {}) {
  if (buf[0] === 0xff && buf[1] === 0xd8) return decodeJpeg(buf, opts);
  if (buf.readUInt32BE(0) === 0x89504e47) return pngColour(buf, decodePng(buf));
  return decodeWebp(buf);
}

// The same pixels read as plain sRGB, ignoring every profile and colour chunk: what a converter
// that skipped colour management would show (JPEG and PNG; CMYK has no such reading).
export function decodeUnmanaged(buf) {
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    return withTemp((dir) => {
      writeFileSync(path.join(dir, 'in.jpg'), buf);
      return readPnm(run('djpeg', ['-pnm', ...jpegScale(buf), path.join(dir, 'in.jpg')]));
    });
  }
  return decodePng(buf);
}

// The upright, sRGB picture a file stands for, as a view of its decoded pixels.
export function reference(buf, opts = {}) {
  return view(decodeFile(buf, opts), { orientation: exifOrientation(buf) });
}

// A baseline JPEG (cjpeg, 4:4:4, or one grey component) of `img`, with `icc` as its APP2
// ICC_PROFILE segment.
export function encodeJpeg(img, { icc = null, quality = 95, grey = false } = {}) {
  const ppm = Buffer.concat([Buffer.from(`P6\n${img.width} ${img.height}\n255\n`), Buffer.from(img.data.filter((_, i) => i % 4 !== 3))]);
  const jpg = run('cjpeg', ['-quality', String(quality), '-sample', '1x1', ...(grey ? ['-grayscale'] : [])], ppm);
  if (!icc) return jpg;
  const seg = Buffer.concat([Buffer.from('ICC_PROFILE\0', 'latin1'), Buffer.from([1, 1]), icc]);
  const head = Buffer.from([0xff, 0xe2, (seg.length + 2) >> 8, (seg.length + 2) & 0xff]);
  return Buffer.concat([jpg.subarray(0, 2), head, seg, jpg.subarray(2)]);
}
