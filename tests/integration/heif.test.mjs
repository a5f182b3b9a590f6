// HEIC and AVIF input: refused by default (400 INVALID_FILE_TYPE), accepted when SUPPORTED_FORMATS
// lists them, on multipart and direct uploads. Files are encoded here by heif-enc (x265) and
// avifenc (libaom) from a picture with four coloured quadrants, turned with irot/imir; the outputs
// must be upright exactly once (dimensions and where each quadrant lands, on the main WebP and the
// thumbnail). Hostile headers, built box by box, get their exact 400 without being decoded: the
// service logs `heif_decode_started` before libheif sees any HEIF, and never for them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service, TESTDATA, HAVE_TESTDATA } from './lib/server.mjs';
import { encodePng } from './lib/png-codec.mjs';
import { decodeWebp, MISSING_TOOLS } from './lib/decode.mjs';
import {
  HAVE_HEIF_TOOLS, avifFrom, box, fullBox, heicFrom, heifFile, imir, irot, ispe, withTransforms,
} from './lib/heif.mjs';

const REALWORLD = process.env.ISVC_REALWORLD || path.resolve(TESTDATA, '../realworld/images');
const HAVE_REALWORLD = existsSync(REALWORLD);
const SKIP = (!HAVE_HEIF_TOOLS && 'heif-enc/avifenc missing (scripts/install-deps.sh)') ||
  (MISSING_TOOLS.length > 0 && `missing ${MISSING_TOOLS.join(', ')}`);
const ALL = 'jpeg,png,webp,heic,avif';

let svc, plain, token, dir;
const W = 600, H = 400;
// Stored pixels: red top-left, green top-right, blue bottom-left, white bottom-right.
const COLOURS = { tl: [255, 0, 0], tr: [0, 255, 0], bl: [0, 0, 255], br: [255, 255, 255] };
const quadrant = (x, y, w, h) => (y < h / 2 ? (x < w / 2 ? 'tl' : 'tr') : x < w / 2 ? 'bl' : 'br');
let source;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isvc-heif-test-'));
  source = encodePng(W, H, { pixel: (x, y) => COLOURS[quadrant(x, y, W, H)] });
  [svc, plain] = await Promise.all([
    new Service({ SUPPORTED_FORMATS: ALL }).start(),
    new Service().start(),
  ]);
  token = svc.token('heidi');
});
after(async () => {
  for (const s of [svc, plain]) if (s) assert.equal((await s.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

// Where the upright pixel (x, y) of an image of upright size w x h comes from in the stored
// W x H picture, for HEIF's transforms in order: irot `angle` (x 90 degrees anticlockwise), then
// imir `axis` (0: top and bottom swap, 1: left and right, as libheif and libavif read it).
function storedQuadrant(x, y, w, h, angle, axis) {
  if (axis === 0) y = h - 1 - y;
  if (axis === 1) x = w - 1 - x;
  let [cw, ch] = [w, h];
  for (let i = 0; i < angle; i++) {
    // Turned anticlockwise: the result's (x, y) is the previous image's (prevW - 1 - y, x).
    [x, y] = [ch - 1 - y, x];
    [cw, ch] = [ch, cw];
  }
  return quadrant(x, y, cw, ch);
}

function near(px, colour, what) {
  const d = Math.max(...colour.map((c, i) => Math.abs(c - px[i])));
  assert.ok(d <= 48, `${what}: ${px.slice(0, 3)} is not ${colour}`);
}

function pixel(img, x, y) {
  const i = (y * img.width + x) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
}

async function fetchBytes(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return Buffer.from(await res.arrayBuffer());
}

// Uploads a HEIF made from `source` with the given transforms and checks both outputs' size and
// quadrants; returns the response.
async function uploadUpright(bytes, name, { angle = 0, axis = -1, mime }) {
  const t0 = performance.now();
  const r = await svc.upload(token, bytes, {}, name);
  const ms = performance.now() - t0;
  assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.json)}`);
  assert.equal(r.json.mimeType, mime, name);
  const [w, h] = angle % 2 ? [H, W] : [W, H];
  assert.deepEqual([r.json.width, r.json.height], [w, h], `${name}: upright size`);
  const main = decodeWebp(await fetchBytes(r.json.imageUrl));
  assert.deepEqual([main.width, main.height], [w, h], `${name}: main`);
  for (const [fx, fy] of [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]) {
    const [x, y] = [Math.floor(fx * w), Math.floor(fy * h)];
    near(pixel(main, x, y), COLOURS[storedQuadrant(x, y, w, h, angle, axis)], `${name} main at ${x},${y}`);
  }
  // The thumbnail is the centred square, scaled to 400: its quadrants are the picture's.
  const thumb = decodeWebp(await fetchBytes(r.json.thumbnailUrl));
  assert.deepEqual([thumb.width, thumb.height], [400, 400]);
  const side = Math.min(w, h), ox = (w - side) / 2, oy = (h - side) / 2;
  for (const [tx, ty] of [[100, 100], [300, 100], [100, 300], [300, 300]]) {
    const [x, y] = [Math.floor(ox + (tx * side) / 400), Math.floor(oy + (ty * side) / 400)];
    near(pixel(thumb, tx, ty), COLOURS[storedQuadrant(x, y, w, h, angle, axis)], `${name} thumbnail at ${tx},${ty}`);
  }
  const decoded = await svc.logLines((j) => j.event === 'heif_decoded' && j.requestId === r.headers.get('x-request-id'));
  console.log(`${name}: ${bytes.length} bytes, 201 in ${ms.toFixed(0)} ms (decode ${decoded[0].decodeMs} ms)`);
  return r;
}

// A refused upload: exact status, code and reason, and no decode logged for its request.
async function assertRefusedUndecoded(bytes, name, code, reason) {
  const t0 = performance.now();
  const r = await svc.upload(token, bytes, {}, name);
  const ms = performance.now() - t0;
  assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.json)}`);
  assert.equal(r.json.code, code, `${name}: ${JSON.stringify(r.json)}`);
  if (reason) assert.equal(r.json.details.reason, reason, `${name}: ${JSON.stringify(r.json)}`);
  const id = r.headers.get('x-request-id');
  await svc.logCaughtUp(id);
  const seen = (await svc.logLines(() => true)).filter((j) => j.event?.startsWith('heif_decode') && j.requestId === id);
  assert.deepEqual(seen, [], `${name} reached libheif`);
  console.log(`${name}: ${bytes.length} bytes, 400 ${code}${reason ? ` ${reason}` : ''} in ${ms.toFixed(1)} ms, not decoded`);
  return r;
}

test('by default HEIC and AVIF are refused like any unknown type, on both upload paths', { skip: SKIP }, async () => {
  const t = plain.token('ivan');
  const files = { heic: heicFrom(source), avif: avifFrom(source) };
  for (const [kind, bytes] of Object.entries(files)) {
    const r = await plain.upload(t, bytes, {}, `x.${kind}`);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.code, 'INVALID_FILE_TYPE');
    assert.equal(r.json.message, 'only JPEG, PNG and WebP images are accepted');
  }
  for (const type of ['image/heic', 'image/heif', 'image/avif']) {
    const r = await plain.req('POST', '/images/uploads', { token: t, body: { filename: 'x', contentType: type, contentLength: 1000 } });
    assert.equal(r.status, 400, type);
    assert.equal(r.json.code, 'INVALID_FILE_TYPE');
    assert.equal(r.json.message, 'contentType must be image/jpeg, image/png or image/webp');
  }
  if (HAVE_TESTDATA) {
    const r = await plain.upload(t, readFileSync(path.join(TESTDATA, 'photo.avif')), {}, 'photo.avif');
    assert.equal(r.json.code, 'INVALID_FILE_TYPE');  // MANIFEST.tsv's outcome under the default
  }
});

test('enabled: HEIC and AVIF become upright WebP outputs, with every irot and imir', { skip: SKIP }, async () => {
  const heic = heicFrom(source), avif = avifFrom(source);
  await uploadUpright(heic, 'plain.heic', { mime: 'image/heic' });
  await uploadUpright(avif, 'plain.avif', { mime: 'image/avif' });
  for (const angle of [1, 2, 3]) {
    await uploadUpright(withTransforms(heic, [irot(angle)]), `irot${angle}.heic`, { angle, mime: 'image/heic' });
    await uploadUpright(withTransforms(avif, [irot(angle)]), `irot${angle}.avif`, { angle, mime: 'image/avif' });
  }
  for (const axis of [0, 1]) {
    await uploadUpright(withTransforms(heic, [imir(axis)]), `imir${axis}.heic`, { axis, mime: 'image/heic' });
    await uploadUpright(withTransforms(heic, [irot(1), imir(axis)]), `irot1-imir${axis}.heic`, { angle: 1, axis, mime: 'image/heic' });
  }
  // avifenc writing irot itself.
  await uploadUpright(avifFrom(source, ['--irot', '3']), 'avifenc-irot3.avif', { angle: 3, mime: 'image/avif' });
});

test('enabled: a grid, 10- and 12-bit AVIF, a direct upload of image/heic and image/heif', { skip: SKIP }, async () => {
  // 600x400 split into 2x2 tiles of 300x200 by avifenc.
  const grid = avifFrom(source, ['-g', '2x2']);
  assert.ok(grid.includes(Buffer.from('grid')), 'avifenc wrote a grid');
  await uploadUpright(grid, 'grid.avif', { mime: 'image/avif' });
  for (const depth of ['10', '12']) await uploadUpright(avifFrom(source, ['-d', depth]), `depth${depth}.avif`, { mime: 'image/avif' });
  const heic = heicFrom(source);
  for (const type of ['image/heic', 'image/heif']) {
    const s = await svc.req('POST', '/images/uploads', { token, body: { filename: 'phone.heic', contentType: type, contentLength: heic.length } });
    assert.equal(s.status, 201, JSON.stringify(s.json));
    const file = path.join(dir, `direct-${type.slice(6)}`);
    writeFileSync(file, heic);
    const put = execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', file, '-H', `Content-Type: ${type}`, s.json.uploadUrl]).toString();
    assert.equal(put, '200');
    const c = await svc.req('POST', `/images/uploads/${s.json.uploadId}/complete`, { token });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    assert.equal(c.json.mimeType, 'image/heic');
    assert.deepEqual([c.json.width, c.json.height], [W, H]);
  }
});

test('enabled: phone photos with EXIF orientations come out upright once (corpus orientation set)', { skip: SKIP || (!HAVE_REALWORLD && 'no realworld corpus') }, async () => {
  // recurser-Landscape_N.jpg: the same landscape stored with EXIF orientation N. avifenc turns
  // the orientation into irot/imir and keeps the EXIF (Orientation N) too, as phones do.
  const ref = await svc.upload(token, readFileSync(path.join(REALWORLD, 'recurser-Landscape_1.jpg')), {}, 'l1.jpg');
  assert.equal(ref.status, 201);
  const refMain = decodeWebp(await fetchBytes(ref.json.imageUrl));
  for (let o = 1; o <= 8; o++) {
    const jpeg = readFileSync(path.join(REALWORLD, `recurser-Landscape_${o}.jpg`));
    const avif = avifFrom(jpeg);
    const r = await svc.upload(token, avif, {}, `landscape-${o}.avif`);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual([r.json.width, r.json.height], [ref.json.width, ref.json.height], `orientation ${o}: upright size`);
    const main = decodeWebp(await fetchBytes(r.json.imageUrl));
    // Mean difference on an 8x8 grid of cells against the upright JPEG's output.
    let sum = 0;
    for (let gy = 0; gy < 8; gy++) for (let gx = 0; gx < 8; gx++) {
      const x = Math.floor(((gx + 0.5) * main.width) / 8), y = Math.floor(((gy + 0.5) * main.height) / 8);
      const a = pixel(main, x, y), b = pixel(refMain, x, y);
      sum += a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / 3;
    }
    assert.ok(sum / 64 < 12, `orientation ${o}: mean cell difference ${(sum / 64).toFixed(1)} against the upright picture`);
  }
});

// The largest mean channel difference of a 16x16 grid of cells between two same-size pictures.
function worstCell(a, b) {
  let worst = 0;
  for (let gy = 0; gy < 16; gy++) for (let gx = 0; gx < 16; gx++) {
    const d = [0, 0, 0];
    let n = 0;
    for (let y = Math.floor((gy * a.height) / 16); y < Math.floor(((gy + 1) * a.height) / 16); y++) {
      for (let x = Math.floor((gx * a.width) / 16); x < Math.floor(((gx + 1) * a.width) / 16); x++, n++) {
        const i = (y * a.width + x) * 4;
        for (let c = 0; c < 3; c++) d[c] += a.data[i + c] - b.data[i + c];
      }
    }
    worst = Math.max(worst, ...d.map((v) => Math.abs(v / n)));
  }
  return worst;
}

test('enabled: an ICC profile in the colr box is turned into sRGB (corpus Display P3 photo)', { skip: SKIP || (!HAVE_REALWORLD && 'no realworld corpus') }, async () => {
  // heif-enc and avifenc copy the JPEG's Display P3 profile into a colr box: the outputs must
  // match the JPEG's own (whose profile the service honours). Control: the same pixels without
  // the profile (read as sRGB) differ by 15 levels in the most saturated cell.
  const file = path.join(REALWORLD, 'avif-apple-display-p3.jpg');
  const jpeg = readFileSync(file);
  const out = async (bytes, name) => {
    const r = await svc.upload(token, bytes, {}, name);
    assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.json)}`);
    return decodeWebp(await fetchBytes(r.json.imageUrl));
  };
  const ref = await out(jpeg, 'p3.jpg');
  for (const [name, bytes] of [['p3.heic', heicFrom(jpeg, ['-q', '95'])], ['p3.avif', avifFrom(jpeg)]]) {
    assert.ok(bytes.includes(Buffer.from('prof')), `${name} carries an ICC profile`);
    const worst = worstCell(await out(bytes, name), ref);
    assert.ok(worst < 6, `${name}: a cell differs by ${worst.toFixed(1)} levels from the JPEG's output`);
  }
  const stripped = path.join(dir, 'p3-stripped.jpg');
  execFileSync('vips', ['copy', file, `${stripped}[strip,Q=98]`]);
  const control = worstCell(await out(heicFrom(readFileSync(stripped), ['-q', '95']), 'p3-no-profile.heic'), ref);
  assert.ok(control > 6, `without its profile the picture should differ (${control.toFixed(1)})`);
});

test('enabled: PROCESSING_TIMEOUT_MS applies to a HEIF decode', { skip: SKIP }, async () => {
  // libheif decodes in one call, which the deadline cannot cut short: it is checked as soon as
  // libvips runs again, so the upload is refused (not stored) once the budget is spent.
  const quick = await new Service({ SUPPORTED_FORMATS: ALL, PROCESSING_TIMEOUT_MS: '1' }).start();
  try {
    const r = await quick.upload(quick.token('t'), heicFrom(source), {}, 'slow.heic');
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.details.reason, 'processing_timeout');
    assert.equal((await quick.req('GET', '/images', { token: quick.token('t') })).json.images.length, 0);
  } finally {
    assert.equal((await quick.stop()).code, 0);
  }
});

test('enabled: corpus AVIFs: a 4-tile grid is accepted, 17000x17000 is refused from its header', { skip: !HAVE_REALWORLD && 'no realworld corpus' }, async () => {
  const grid = await svc.upload(token, readFileSync(path.join(REALWORLD, 'sharp-pitm.avif')), {}, 'pitm.avif');
  assert.equal(grid.status, 201, JSON.stringify(grid.json));
  assert.deepEqual([grid.json.width, grid.json.height], [4096, 800]);
  const big = await assertRefusedUndecoded(readFileSync(path.join(REALWORLD, 'vips-17000x17000.avif')), 'vips-17000x17000.avif', 'INVALID_DIMENSIONS');
  assert.deepEqual([big.json.details.width, big.json.details.height], ['17000', '17000']);
});

test('enabled: hostile HEIF headers get their exact 400 without a decode', async () => {
  const cases = [
    ['huge ispe', heifFile({ props: [ispe(0xffffffff, 0xffffffff)] }), 'INVALID_DIMENSIONS'],
    ['ispe 30000x30000 turned', heifFile({ props: [ispe(30000, 100), irot(1)] }), 'INVALID_DIMENSIONS'],
    ['8001 wide after irot', heifFile({ props: [ispe(100, 8001), irot(3)] }), 'INVALID_DIMENSIONS'],
    ['99 high', heifFile({ brand: 'avif', codec: 'av01', props: [ispe(500, 99)] }), 'INVALID_DIMENSIONS'],
    // Within 8000x8000 but past HEIF_MAX_PIXELS (4096x4096 by default): libheif would decode it
    // whole, in one call the deadline cannot stop.
    ['5000x5000, over HEIF_MAX_PIXELS', heifFile({ brand: 'avif', codec: 'av01', props: [ispe(5000, 5000)] }), 'INVALID_DIMENSIONS', 'heif_too_many_pixels'],
    ['no ispe', heifFile({ props: [irot(1)] }), 'INVALID_IMAGE', 'malformed_container'],
    ['meta larger than the file', (() => { const b = heifFile(); b.writeUInt32BE(0xfffffff0, 24); return b; })(), 'INVALID_IMAGE', 'truncated_container'],
    ['64-bit box size 2^64-1', (() => { const b = heifFile(); return Buffer.concat([b.subarray(0, 24), Buffer.from([0, 0, 0, 1]), Buffer.from('free'), Buffer.alloc(8, 0xff), b.subarray(24)]); })(), 'INVALID_IMAGE', 'truncated_container'],
    ['2000 nested meta boxes', heifFile({ extraMeta: Array.from({ length: 2000 }).reduce((inner) => fullBox('meta', 0, inner), Buffer.alloc(0)) }), 'INVALID_IMAGE', 'malformed_container'],
    ['a grid of 10000 tiles', heifFile({ rows: 100, cols: 100, tile: [64, 64], props: [ispe(6400, 6400)] }), 'INVALID_IMAGE', 'heif_too_many_boxes'],
    ['a grid of 2025 tiles', heifFile({ rows: 45, cols: 45, tile: [128, 128], props: [ispe(5760, 5760)] }), 'INVALID_IMAGE', 'heif_too_many_tiles'],
    ['a 7000-px grid of 9000-px tiles', heifFile({ rows: 1, cols: 1, tile: [9000, 9000], props: [ispe(7000, 7000)] }), 'INVALID_IMAGE', 'heif_item_too_large'],
    ['heic brand, AV1 image', heifFile({ codec: 'av01' }), 'INVALID_IMAGE', 'malformed_container'],
    ['a sequence without a still image', heifFile({ meta: false, tail: [box('moov', Buffer.alloc(0))] }), 'INVALID_IMAGE', 'malformed_container'],
    ['mif1 alone', heifFile({ brand: 'mif1' }), 'INVALID_FILE_TYPE'],
    ['item data past the end', heifFile().subarray(0, heifFile().length - 8), 'INVALID_IMAGE', 'truncated_container'],
  ];
  if (HAVE_HEIF_TOOLS) {
    const real = heicFrom(source);
    cases.push(['a real HEIC cut in half', real.subarray(0, real.length >> 1), 'INVALID_IMAGE', 'truncated_container']);
  }
  for (const [name, bytes, code, reason] of cases) await assertRefusedUndecoded(bytes, `${name}.heic`, code, reason);
  // A header that passes, with no decodable data behind it: the decode fails cleanly.
  const r = await svc.upload(token, heifFile(), {}, 'zeros.heic');
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_IMAGE');
  assert.equal(r.json.details.reason, 'decode_failed');
  // The control of the checks above: this one did reach libheif, and says so.
  await svc.logLines((j) => j.event === 'heif_decode_started' && j.requestId === r.headers.get('x-request-id'));
});
