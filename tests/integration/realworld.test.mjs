// Every file of ../shared/testdata/realworld/images gets the outcome realworld.tsv gives it
// (SPEC §2, §12): the exact status and code; for 201, WebP outputs of the right sizes without
// metadata chunks, alpha where the source has real alpha, and pictures that match an independent
// decode (lib/pixels.mjs: djpeg, jpgicc, dwebp, a PNG decoder): upright, sRGB, not tinted.
// Files generated here prove the same rules without the folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import * as icc from './lib/icc.mjs';
import { MISSING_TOOLS, decodeFile, decodeUnmanaged, decodeWebp, encodeJpeg, exifOrientation, jpegIcc, reference } from './lib/decode.mjs';
import { centreSquare, difference, hasRealAlpha, orient, shrink, view } from './lib/pixels.mjs';
import { encodePng, exifWithOrientation } from './lib/png-codec.mjs';
import { Service, TESTDATA } from './lib/server.mjs';
import { inspectWebp } from './lib/webp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REALWORLD = process.env.ISVC_REALWORLD || path.resolve(TESTDATA, '../realworld/images');
const HAVE_REALWORLD = existsSync(path.join(REALWORLD, '../SOURCES.tsv'));
const NO_TOOLS = MISSING_TOOLS.length > 0 && `needs ${MISSING_TOOLS.join(', ')} (scripts/install-deps.sh)`;

function table() {
  const [head, ...lines] = readFileSync(path.join(here, 'realworld.tsv'), 'utf8').trim().split('\n');
  const keys = head.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [keys[i], v])));
}

let svc, token;
before(async () => {
  svc = await new Service().start();
  token = svc.token('realworld-user');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

const METADATA_FREE = ['VP8 ', 'VP8L', 'VP8X', 'ALPH'];

// Uploads `bytes` and checks what every 201 must be; returns the record and both outputs.
async function uploadAccepted(bytes, name, { width, height, alpha }) {
  const r = await svc.upload(token, bytes, {}, name);
  const what = `${name}: ${r.status} ${JSON.stringify(r.json)?.slice(0, 200)}`;
  assert.equal(r.status, 201, what);
  assert.deepEqual([r.json.width, r.json.height], [width, height], `${name}: upright dimensions`);
  const main = Buffer.from(await (await fetch(r.json.imageUrl)).arrayBuffer());
  const thumb = Buffer.from(await (await fetch(r.json.thumbnailUrl)).arrayBuffer());
  const m = inspectWebp(main), t = inspectWebp(thumb);
  const scale = Math.min(1, 2048 / Math.max(width, height));
  assert.deepEqual([m.width, m.height], [Math.round(width * scale), Math.round(height * scale)], `${name}: main fits 2048, never enlarged`);
  assert.deepEqual([t.width, t.height], [400, 400], `${name}: thumbnail`);
  for (const w of [m, t]) {
    assert.deepEqual(w.chunks.filter((c) => !METADATA_FREE.includes(c)), [], `${name}: metadata chunks`);
    assert.equal(w.animated, false, `${name}: one frame`);
    assert.equal(w.alpha, alpha, `${name}: alpha ${alpha ? 'kept' : 'absent'}`);
  }
  return { record: r.json, main, thumb };
}

// The outputs against the independent reference `ref`: the main image whole, the thumbnail
// against the reference's centred square. `tol` bounds the mean cell difference and the tint.
function checkPicture(name, outputs, ref, tol, { alpha }) {
  const main = shrink(decodeWebp(outputs.main)), thumb = decodeWebp(outputs.thumb);
  const d = difference(main, ref), dt = difference(thumb, centreSquare(ref));
  const what = `${name}: main ${JSON.stringify(d)} thumb ${JSON.stringify(dt)} (tolerance ${tol})`;
  assert.ok(d.colour <= tol && d.tint <= tol, what);
  assert.ok(dt.colour <= Math.max(4, tol + 1), what);
  if (alpha) {
    assert.ok(d.alpha <= 1.5, what);
    assert.ok(dt.alpha <= 8, what);
  }
  return main;
}

// Proves the check above could fail: every other orientation of the stored pixels that is
// distinguishable from the upright picture misses the tolerance.
function checkUprightControl(name, main, raw, ref, tol) {
  let controls = 0;
  for (let o = 1; o <= 8; o++) {
    const wrong = view(raw, { orientation: o });
    if (o === ref.orientation || wrong.width !== ref.width || wrong.height !== ref.height) continue;
    if (difference(wrong, ref).colour <= 2 * tol) continue;  // the picture is symmetric that way
    controls++;
    const d = difference(main, wrong);
    assert.ok(d.colour > tol, `${name}: also matches orientation ${o} (${d.colour})`);
  }
  assert.ok(controls > 0 || ref.orientation >= 5, `${name}: no orientation to tell apart`);
}

// Proves colour management matters for the file: read as plain sRGB, it misses the tolerance.
function checkColourControl(name, main, bytes, ref, tol) {
  const plain = view(shrink(decodeUnmanaged(bytes)), { orientation: ref.orientation });
  const d = difference(plain, ref), dm = difference(main, plain);
  assert.ok(d.colour > tol && dm.colour > tol, `${name}: unmanaged ${JSON.stringify(d)}, output vs unmanaged ${JSON.stringify(dm)}`);
}

test('realworld.tsv lists every file of the folder, once', { skip: !HAVE_REALWORLD && 'no ../shared/testdata/realworld' }, () => {
  assert.deepEqual(table().map((r) => r.file), readdirSync(REALWORLD).sort());
});

test('every realworld file gets its SPEC outcome: status, code, sizes, metadata-free, upright, sRGB', { skip: !HAVE_REALWORLD && 'no ../shared/testdata/realworld' }, async (t) => {
  const rows = table(), outputs = new Map();
  for (const row of rows) {
    await t.test(row.file, async () => {
      const bytes = readFileSync(path.join(REALWORLD, row.file));
      if (row.status !== '201') {
        const r = await svc.upload(token, bytes, {}, row.file);
        const what = `${row.file}: ${r.status} ${JSON.stringify(r.json)?.slice(0, 200)}`;
        assert.equal(r.status, Number(row.status), what);
        assert.equal(r.json.code, row.code, what);
        assert.equal(r.json.requestId, r.headers.get('x-request-id'), what);
        if (row.code === 'INVALID_DIMENSIONS')
          assert.deepEqual([r.json.details.width, r.json.details.height], [row.width, row.height], what);
        return;
      }
      const out = await uploadAccepted(bytes, row.file, { width: Number(row.width), height: Number(row.height), alpha: row.alpha === 'yes' });
      assert.equal(out.record.mimeType, { 0xff: 'image/jpeg', 0x89: 'image/png', 0x52: 'image/webp' }[bytes[0]]);
      outputs.set(row.file, out);
      if (NO_TOOLS) return;
      const tol = Number(row.tolerance);
      const opts = {};
      if (row.reference.startsWith('profile-of:'))
        opts.inputProfile = jpegIcc(readFileSync(path.join(REALWORLD, row.reference.slice('profile-of:'.length))));
      const raw = shrink(decodeFile(bytes, opts));
      const ref = view(raw, { orientation: exifOrientation(bytes) });
      assert.equal(hasRealAlpha(raw), row.alpha === 'yes' || row.file === 'webp-bad_palette_index.webp', `${row.file}: reference alpha`);
      const main = checkPicture(row.file, out, ref, tol, { alpha: row.alpha === 'yes' });
      out.decoded = main;
      if (row.control.includes('upright')) checkUprightControl(row.file, main, raw, ref, tol);
      if (row.control.includes('colour')) checkColourControl(row.file, main, bytes, ref, tol);
    });
  }
  await t.test('orientation sets: the same picture as their sibling once upright', { skip: NO_TOOLS }, () => {
    for (const row of rows.filter((r) => r.sibling !== '-')) {
      const [file, steps = ''] = row.sibling.split('@');
      let sibling = outputs.get(file).decoded;
      for (const o of steps.split(',').filter(Boolean)) sibling = orient(sibling, Number(o));
      const d = difference(outputs.get(row.file).decoded, sibling);
      assert.ok(d.colour <= Number(row.tolerance), `${row.file} vs ${row.sibling}: ${JSON.stringify(d)}`);
    }
  });
});

// ---- generated files: the same rules without the shared folder --------------------------------

const gradient = (w, h) => (x, y) => [Math.round((255 * x) / (w - 1)), Math.round((255 * y) / (h - 1)), 90];
const rgbaImage = (w, h, px) => {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...px(x, y), 255], (y * w + x) * 4);
  return { width: w, height: h, data };
};
const iccpChunk = (profile) => ({ type: 'iCCP', data: Buffer.concat([Buffer.from('test\0\0', 'latin1'), deflateSync(profile)]) });

test('generated JPEGs: every ICC profile reaches sRGB, whatever intents it supports', { skip: NO_TOOLS }, async () => {
  const img = rgbaImage(300, 200, gradient(300, 200));
  const cases = [
    { name: 'perceptual-only.jpg', profile: icc.perceptualOnlySwapProfile() },
    { name: 'display-p3.jpg', profile: icc.matrixProfile(icc.DISPLAY_P3_COLORANTS, 'Display P3 (test)') },
  ];
  for (const c of cases) {
    const jpg = encodeJpeg(img, { icc: c.profile });
    const out = await uploadAccepted(jpg, c.name, { width: 300, height: 200, alpha: false });
    const ref = reference(jpg);
    const main = checkPicture(c.name, out, ref, 1.5, { alpha: false });
    checkColourControl(c.name, main, jpg, ref, 1.5);
  }
  // The perceptual-only profile swaps red and blue: the reference really did that.
  const swapped = rgbaImage(300, 200, (x, y) => gradient(300, 200)(x, y).reverse());
  const d = difference(reference(encodeJpeg(img, { icc: icc.perceptualOnlySwapProfile() })), swapped);
  assert.ok(d.colour <= 2, `jpgicc applied the swap: ${JSON.stringify(d)}`);
});

const w = 300, h = 200;

test('generated PNGs: every EXIF orientation comes out upright', { skip: NO_TOOLS }, async () => {
  for (let o = 1; o <= 8; o++) {
    const png = encodePng(w, h, { pixel: gradient(w, h), chunks: [{ type: 'eXIf', data: exifWithOrientation(o) }] });
    const [uw, uh] = o >= 5 ? [h, w] : [w, h];
    const out = await uploadAccepted(png, `orientation-${o}.png`, { width: uw, height: uh, alpha: false });
    const raw = decodeFile(png), ref = view(raw, { orientation: o });
    const main = checkPicture(`orientation ${o}`, out, ref, 1.5, { alpha: false });
    checkUprightControl(`orientation ${o}`, main, raw, ref, 1.5);
  }
});

test('generated PNG: a gAMA other than sRGB\'s is honoured', { skip: NO_TOOLS }, async () => {
  const gama = { type: 'gAMA', data: Buffer.from([0, 0, 0xf4, 0x24]) };  // 62500: file gamma 1/1.6
  const grey = encodePng(w, h, { channels: 1, pixel: (x) => [Math.round((255 * x) / (w - 1))], chunks: [gama] });
  const outGrey = await uploadAccepted(grey, 'gamma-1.6.png', { width: w, height: h, alpha: false });
  const refGrey = reference(grey);
  checkColourControl('gamma 1/1.6', checkPicture('gamma 1/1.6', outGrey, refGrey, 1.5, { alpha: false }), grey, refGrey, 1.5);
});

test('generated PNG: a 16-bit alpha survives the transform of its ICC profile', { skip: NO_TOOLS }, async () => {
  const rgba16 = encodePng(w, h, {
    channels: 4, depth: 16, chunks: [iccpChunk(icc.srgbProfile())],
    pixel: (x, y) => [...gradient(w, h)(x, y).map((v) => v * 257), Math.round((65535 * x) / (w - 1))],
  });
  const out16 = await uploadAccepted(rgba16, 'rgba16-icc.png', { width: w, height: h, alpha: true });
  checkPicture('rgba16 + iCCP', out16, reference(rgba16), 1.5, { alpha: true });
});

test('generated grey JPEG with a linear-light grey profile', { skip: NO_TOOLS }, async () => {
  const img = rgbaImage(300, 200, (x) => Array(3).fill(Math.round((255 * x) / 299)));
  const jpg = encodeJpeg(img, { icc: icc.greyProfile(1.0), grey: true });
  const out = await uploadAccepted(jpg, 'grey-linear.jpg', { width: 300, height: 200, alpha: false });
  const ref = reference(jpg);
  checkColourControl('linear grey', checkPicture('linear grey', out, ref, 1.5, { alpha: false }), jpg, ref, 1.5);
});
