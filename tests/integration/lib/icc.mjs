// Writes small ICC v2 profiles from first principles (ICC.1:2001-04), for test fixtures and for
// the sRGB output profile of the colour references: matrix/TRC RGB, grey TRC, and an RGB profile
// that has only a perceptual lookup table. Reads a profile's description.

const s15 = (v) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(Math.round(v * 65536));
  return b;
};
const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const u16s = (values) => {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(Math.max(0, Math.min(65535, Math.round(v))), i * 2));
  return b;
};

const xyzTag = ([x, y, z]) => Buffer.concat([Buffer.from('XYZ \0\0\0\0', 'latin1'), s15(x), s15(y), s15(z)]);
const curveTag = (table) => Buffer.concat([Buffer.from('curv\0\0\0\0', 'latin1'), u32(table.length), u16s(table)]);

function descTag(text) {
  const ascii = Buffer.from(`${text}\0`, 'latin1');
  // ASCII part, then empty Unicode and ScriptCode parts (the latter a fixed 67-byte field).
  return Buffer.concat([Buffer.from('desc\0\0\0\0', 'latin1'), u32(ascii.length), ascii, u32(0), u32(0), Buffer.alloc(2 + 1 + 67)]);
}

const D50 = [0.9642, 1.0, 0.8249];

function profile({ cls, space, tags }) {
  const entries = Object.entries(tags);
  let offset = 128 + 4 + entries.length * 12;
  const table = [], data = [];
  for (const [sig, body] of entries) {
    table.push(Buffer.concat([Buffer.from(sig, 'latin1'), u32(offset), u32(body.length)]));
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    data.push(padded);
    offset += padded.length;
  }
  const header = Buffer.alloc(128);
  header.writeUInt32BE(offset, 0);
  header.writeUInt32BE(0x02100000, 8);
  header.write(cls, 12, 'latin1');
  header.write(space, 16, 'latin1');
  header.write('XYZ ', 20, 'latin1');
  header.writeUInt16BE(2026, 24);
  header.writeUInt16BE(1, 26);
  header.writeUInt16BE(1, 28);
  header.write('acsp', 36, 'latin1');
  D50.forEach((v, i) => s15(v).copy(header, 68 + 4 * i));
  return Buffer.concat([header, u32(entries.length), ...table, ...data]);
}

export const srgbDecode = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const srgbCurve = Array.from({ length: 1024 }, (_, i) => 65535 * srgbDecode(i / 1023));

// Colorants adapted to D50 (Bradford), as ICC profiles store them.
export const SRGB_COLORANTS = [[0.4361, 0.2225, 0.0139], [0.3851, 0.7169, 0.0971], [0.1431, 0.0606, 0.7141]];
export const DISPLAY_P3_COLORANTS = [[0.5151, 0.2412, -0.0011], [0.292, 0.6922, 0.0419], [0.1571, 0.0666, 0.7841]];

// A display profile: colorants [r, g, b] (D50 XYZ) with the sRGB tone curve.
export function matrixProfile(colorants, description) {
  const trc = curveTag(srgbCurve);
  return profile({
    cls: 'mntr', space: 'RGB ',
    tags: {
      desc: descTag(description), wtpt: xyzTag(D50),
      rXYZ: xyzTag(colorants[0]), gXYZ: xyzTag(colorants[1]), bXYZ: xyzTag(colorants[2]),
      rTRC: trc, gTRC: trc, bTRC: trc,
    },
  });
}

export const srgbProfile = () => matrixProfile(SRGB_COLORANTS, 'sRGB (IEC 61966-2-1), written by the tests');

// A grey display profile whose samples are light ** (1 / gamma) (gamma 1: linear light).
export function greyProfile(gamma) {
  const table = Array.from({ length: 256 }, (_, i) => 65535 * (i / 255) ** gamma);
  return profile({ cls: 'mntr', space: 'GRAY', tags: { desc: descTag(`grey, gamma ${gamma}`), wtpt: xyzTag(D50), kTRC: curveTag(table) } });
}

// An input profile with nothing but a perceptual table (A2B0, lut16), like the jpegli XYB
// sample's: it reads sRGB pixels with red and blue swapped. A converter that skips it for want of
// a relative-colorimetric table leaves red where the profile says blue.
export function perceptualOnlySwapProfile() {
  const [r, g, b] = SRGB_COLORANTS;
  const clut = [];
  for (const ri of [0, 1]) for (const gi of [0, 1]) for (const bi of [0, 1]) {
    for (let k = 0; k < 3; k++) clut.push(32768 * (ri * b[k] + gi * g[k] + bi * r[k]));  // u1.15 XYZ
  }
  const inTable = Array.from({ length: 256 }, (_, i) => 65535 * srgbDecode(i / 255));
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1].map(s15);
  const lut = Buffer.concat([
    Buffer.from('mft2\0\0\0\0', 'latin1'), Buffer.from([3, 3, 2, 0]), ...identity,
    u16s([256, 2]), u16s([...inTable, ...inTable, ...inTable]), u16s(clut), u16s([0, 65535, 0, 65535, 0, 65535]),
  ]);
  return profile({ cls: 'scnr', space: 'RGB ', tags: { desc: descTag('perceptual only, red and blue swapped'), wtpt: xyzTag(D50), A2B0: lut } });
}

// The description tag of a profile (v2 textDescription or v4 multiLocalizedUnicode).
export function profileDescription(icc) {
  const n = icc.readUInt32BE(128);
  for (let i = 0; i < n; i++) {
    const e = 132 + i * 12;
    if (icc.toString('latin1', e, e + 4) !== 'desc') continue;
    const o = icc.readUInt32BE(e + 4);
    const type = icc.toString('latin1', o, o + 4);
    if (type === 'desc') return icc.toString('latin1', o + 12, o + 12 + icc.readUInt32BE(o + 8) - 1);
    if (type === 'mluc') {
      const sl = icc.readUInt32BE(o + 20), so = icc.readUInt32BE(o + 24);  // first record
      return Buffer.from(icc.subarray(o + so, o + so + sl)).swap16().toString('utf16le');
    }
  }
  return '';
}
