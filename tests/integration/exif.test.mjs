// EXIF facts and duplicates (issue 14 parts 3 and 4), in whichever mode the suite runs: the facts
// equal exiftool's on the corpora's camera photos (or on JPEGs built here with cjpeg and tagged
// by exiftool), GPS is in no API answer unless EXIF_KEEP_GPS=true and in no output file either
// way, sortBy=takenAt orders and pages with cursors bound to it, and a same-bytes upload names
// the owner's earlier image (never another user's) and is listed by duplicatesOf.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HAVE_TESTDATA, Service, TESTDATA } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { readObject } from './lib/store.mjs';

const REALWORLD = process.env.ISVC_REALWORLD || path.resolve(TESTDATA, '../realworld/images');
const HAVE_EXIFTOOL = spawnSync('exiftool', ['-ver']).status === 0;
const HAVE_CJPEG = spawnSync('which', ['cjpeg']).status === 0;
const TAGS = ['Make', 'Model', 'LensModel', 'DateTimeOriginal', 'OffsetTimeOriginal', 'ExposureTime', 'FNumber',
  'ISO', 'FocalLength', 'GPSLatitude', 'GPSLongitude'];

let dir;
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'isvc-exif-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function exiftool(args) {
  const r = spawnSync('exiftool', args, { timeout: 60000, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return r.stdout.toString();
}
// exiftool's EXIF values (-n: numbers as numbers), per file.
// A file exiftool cannot read (the corpora hold empty and corrupt ones) has none.
function exifOf(file, formatted = false) {
  const r = spawnSync('exiftool', ['-j', ...(formatted ? [] : ['-n']), ...TAGS.map((t) => `-EXIF:${t}`), file],
    { timeout: 60000, maxBuffer: 1 << 26 });
  try { return JSON.parse(r.stdout.toString())[0] ?? {}; } catch { return {}; }
}
function gpsIn(buf, name) {
  const f = path.join(dir, name);
  writeFileSync(f, buf);
  const all = JSON.parse(exiftool(['-j', '-a', '-G1', f]))[0];
  // Any tag of an EXIF or XMP group, or naming GPS (ExifTool:, File:, RIFF: … describe the file).
  return Object.keys(all).filter((k) => /^(IFD\d|ExifIFD|GPS|InteropIFD|SubIFD|MakerNotes|XMP[-\w]*|EXIF):/.test(k) || /gps/i.test(k));
}

// A JPEG of w x h (deterministic noise per seed, so that each is distinct bytes) with the given
// EXIF tags, encoded by cjpeg from a PPM and tagged by exiftool.
let seq = 0;
function taggedJpeg(tags, w = 320, h = 240, seed = 1) {
  const px = Buffer.alloc(w * h * 3);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < px.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    px[i] = x >>> 24;
  }
  const base = path.join(dir, `f${seq++}`);
  writeFileSync(`${base}.ppm`, Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), px]));
  const r = spawnSync('cjpeg', ['-quality', '80', '-outfile', `${base}.jpg`, `${base}.ppm`]);
  assert.equal(r.status, 0, r.stderr?.toString());
  if (Object.keys(tags).length) exiftool(['-q', '-overwrite_original', ...Object.entries(tags).map(([k, v]) => `-${k}=${v}`), `${base}.jpg`]);
  return { file: `${base}.jpg`, bytes: readFileSync(`${base}.jpg`) };
}

const CAMERA = {
  Make: 'TestCam', Model: 'Model X 100', LensModel: 'Zoom 24-70mm f/2.8', DateTimeOriginal: '2021:05:03 14:22:10',
  OffsetTimeOriginal: '+02:00', ExposureTime: '1/125', FNumber: '2.8', ISO: '400', FocalLength: '35.5',
  GPSLatitude: '48.858370', GPSLatitudeRef: 'N', GPSLongitude: '2.294481', GPSLongitudeRef: 'E',
};

// What the API must show for exiftool's values of a file.
function expectFacts(exif, want, wantFmt, label) {
  const w = want;
  if (w.Make !== undefined) assert.equal(exif?.make, String(w.Make).trim(), label);
  if (w.Model !== undefined) assert.equal(exif?.model, String(w.Model).trim(), label);
  if (w.LensModel !== undefined) assert.equal(exif?.lens, String(w.LensModel).trim(), label);
  if (w.DateTimeOriginal && /^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d/.test(w.DateTimeOriginal)) {
    const t = w.DateTimeOriginal.slice(0, 19).replace(/^(\d{4}):(\d\d):(\d\d) /, '$1-$2-$3T');
    assert.equal(exif?.takenAt, t + (/^[+-]\d\d:\d\d$/.test(w.OffsetTimeOriginal ?? '') ? w.OffsetTimeOriginal : ''), label);
  }
  if (typeof w.ExposureTime === 'number' && w.ExposureTime > 0) {
    assert.ok(Math.abs(exif?.exposureSeconds - w.ExposureTime) <= 1e-6 + 1e-6 * w.ExposureTime, `${label} exposure`);
    assert.equal(exif?.exposureTime, String(wantFmt.ExposureTime), `${label} exposure text`);
  }
  if (typeof w.FNumber === 'number' && w.FNumber > 0) assert.ok(Math.abs(exif?.fNumber - w.FNumber) < 0.006, `${label} f`);
  if (typeof w.ISO === 'number' && w.ISO > 0) assert.equal(exif?.iso, w.ISO, `${label} iso`);
  if (typeof w.FocalLength === 'number' && w.FocalLength > 0)
    assert.ok(Math.abs(exif?.focalLength - w.FocalLength) < 0.006, `${label} focal`);
}

let svc, alice, bob;
before(async () => {
  svc = await new Service().start();
  alice = svc.token('exif-alice');
  bob = svc.token('exif-bob');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

test('EXIF facts equal exiftool\'s on the corpora\'s camera photos', { skip: !HAVE_EXIFTOOL }, async (t) => {
  const files = [];
  for (const d of [TESTDATA, REALWORLD])
    if (existsSync(d)) for (const f of readdirSync(d).sort()) if (/\.(jpe?g|png|webp)$/i.test(f)) files.push(path.join(d, f));
  let compared = 0;
  for (const f of files) {
    const want = exifOf(f);
    if (!want.Make && !want.DateTimeOriginal && !want.ExposureTime) continue;
    const bytes = readFileSync(f);
    if (bytes.length > 10 * 1024 * 1024) continue;
    const up = await svc.upload(svc.token(`corpus-${compared}`), bytes, {}, path.basename(f));
    if (up.status !== 201) continue;  // a corpus file the service refuses for other reasons
    expectFacts(up.json.exif, want, exifOf(f, true), path.basename(f));
    assert.equal(up.json.exif?.gps, undefined, path.basename(f));
    compared++;
  }
  t.diagnostic(`${compared} corpus camera photos compared`);
  if (HAVE_TESTDATA) assert.ok(compared >= 5, `only ${compared} camera photos compared`);
  else if (compared === 0) t.skip('no corpora');
});

test('EXIF facts of a generated camera JPEG equal exiftool\'s; GPS is in no answer and no output file', { skip: !HAVE_EXIFTOOL || !HAVE_CJPEG }, async () => {
  const { file, bytes } = taggedJpeg(CAMERA, 1200, 800, 3);
  const up = await svc.upload(alice, bytes, {}, 'camera.jpg');
  assert.equal(up.status, 201, JSON.stringify(up.json));
  expectFacts(up.json.exif, exifOf(file), exifOf(file, true), 'generated');
  assert.deepEqual(up.json.exif, {
    takenAt: '2021-05-03T14:22:10+02:00', make: 'TestCam', model: 'Model X 100', lens: 'Zoom 24-70mm f/2.8',
    exposureTime: '1/125', exposureSeconds: 0.008, fNumber: 2.8, iso: 400, focalLength: 35.5,
  });
  const got = await svc.req('GET', `/images/${up.json.id}`, { token: alice });
  assert.deepEqual(got.json.exif, up.json.exif);
  const list = await svc.req('GET', '/images', { token: alice });
  assert.deepEqual(list.json.images.find((i) => i.id === up.json.id).exif, up.json.exif);
  assert.ok(!JSON.stringify(got.json).includes('48.85'));
  // No output file carries EXIF or GPS: main, thumbnail, a variant.
  const main = await readObject(svc, up.json.s3Key);
  const thumb = await readObject(svc, up.json.thumbnailKey);
  assert.deepEqual(gpsIn(main, 'main.webp'), []);
  assert.deepEqual(gpsIn(thumb, 'thumb.webp'), []);
  for (const v of (up.json.variants ?? []).slice(0, 2)) {
    const res = await fetch(v.url);
    assert.equal(res.status, 200);
    assert.deepEqual(gpsIn(Buffer.from(await res.arrayBuffer()), `v.${v.format}`), [], v.url);
  }
});

test('EXIF_KEEP_GPS=true returns the rounded position to the owner, and still no output file has it', { skip: !HAVE_EXIFTOOL || !HAVE_CJPEG }, async () => {
  const gsvc = await new Service({ EXIF_KEEP_GPS: 'true' }).start();
  try {
    const token = gsvc.token('gps-owner');
    const up = await gsvc.upload(token, taggedJpeg(CAMERA, 400, 300, 4).bytes, {}, 'gps.jpg');
    assert.equal(up.status, 201);
    assert.deepEqual(up.json.exif.gps, { latitude: 48.8584, longitude: 2.2945 });
    const other = await gsvc.req('GET', `/images/${up.json.id}`, { token: gsvc.token('not-owner') });
    assert.equal(other.status, 403);
    assert.deepEqual(gpsIn(await readObject(gsvc, up.json.s3Key), 'gmain.webp'), []);
    assert.deepEqual(gpsIn(await readObject(gsvc, up.json.thumbnailKey), 'gthumb.webp'), []);
  } finally {
    assert.equal((await gsvc.stop()).code, 0);
  }
});

test('malformed EXIF values are omitted, never refused', { skip: !HAVE_EXIFTOOL || !HAVE_CJPEG }, async () => {
  const { bytes } = taggedJpeg({ Make: 'Bad\u202ECam', DateTimeOriginal: '2021:13:45 99:99:99', OffsetTimeOriginal: '+99:99', ISO: '0' }, 200, 200, 5);
  const up = await svc.upload(alice, bytes, {}, 'bad.jpg');
  assert.equal(up.status, 201, JSON.stringify(up.json));
  assert.deepEqual(up.json.exif, { make: 'BadCam' });
  const none = await svc.upload(alice, makePng(150, 150, { seed: 9 }));
  assert.equal(none.status, 201);
  assert.equal(none.json.exif, undefined);
});

test('sortBy=takenAt orders by when the photos were taken, pages with cursors bound to the sort', { skip: !HAVE_EXIFTOOL || !HAVE_CJPEG }, async () => {
  const token = svc.token('exif-sorter');
  const taken = ['2019:01:01 10:00:00', '2022:06:01 08:00:00', '2020:03:15 12:30:00', null, '2018:12:31 23:00:00'];
  const ids = [];
  for (const [i, d] of taken.entries()) {
    const tags = d ? { DateTimeOriginal: d, ...(i === 2 ? { OffsetTimeOriginal: '-05:00' } : {}) } : {};
    const up = await svc.upload(token, taggedJpeg(tags, 150, 150, 20 + i).bytes, {}, `s${i}.jpg`);
    assert.equal(up.status, 201);
    ids.push(up.json.id);
  }
  // Ascending: 2018, 2019, 2020, 2022, then the one without takenAt (uploaded now).
  const asc = [ids[4], ids[0], ids[2], ids[1], ids[3]];
  const walk = async (query) => {
    const seen = [];
    let cursor = null;
    for (let guard = 0; guard < 10; guard++) {
      const r = await svc.req('GET', `/images?${query}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      seen.push(...r.json.images.map((i) => i.id));
      cursor = r.json.pagination.nextCursor;
      if (!cursor) return { seen, total: r.json.totalCount };
    }
    throw new Error('too many pages');
  };
  assert.deepEqual((await walk('sortBy=takenAt&sortOrder=asc')).seen, asc);
  assert.deepEqual((await walk('sortBy=takenAt')).seen, [...asc].reverse());
  // A cursor of one sort is refused by the other.
  const first = await svc.req('GET', '/images?sortBy=takenAt&limit=2', { token });
  const c = encodeURIComponent(first.json.pagination.nextCursor);
  const wrong = await svc.req('GET', `/images?limit=2&cursor=${c}`, { token });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.code, 'INVALID_CURSOR');
  const plain = await svc.req('GET', '/images?limit=2', { token });
  const back = await svc.req('GET', `/images?sortBy=takenAt&limit=2&cursor=${encodeURIComponent(plain.json.pagination.nextCursor)}`, { token });
  assert.equal(back.json.code, 'INVALID_CURSOR');
  const bad = await svc.req('GET', '/images?sortBy=size', { token });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, 'VALIDATION_FAILED');
});

test('the same bytes again → 201 with duplicateOf; another user\'s copy is never named; duplicatesOf lists them', async () => {
  const bytes = makePng(160, 120, { seed: 77 });
  const first = await svc.upload(alice, bytes, {}, 'a.png');
  assert.equal(first.status, 201);
  assert.equal(first.json.duplicateOf, undefined);
  const second = await svc.upload(alice, bytes, { title: 'again' }, 'b.png');
  assert.equal(second.status, 201);
  assert.equal(second.json.duplicateOf, first.json.id);
  const third = await svc.upload(alice, bytes, {}, 'c.png');
  assert.equal(third.json.duplicateOf, first.json.id);  // the earliest copy
  const bobs = await svc.upload(bob, bytes, {}, 'b.png');
  assert.equal(bobs.status, 201);
  assert.equal(bobs.json.duplicateOf, undefined);
  // Not in GET (only the upload's answer).
  assert.equal((await svc.req('GET', `/images/${second.json.id}`, { token: alice })).json.duplicateOf, undefined);

  const dups = await svc.req('GET', `/images?duplicatesOf=${first.json.id}&limit=1&sortOrder=asc`, { token: alice });
  assert.equal(dups.status, 200, JSON.stringify(dups.json));
  assert.deepEqual(dups.json.images.map((i) => i.id), [second.json.id]);
  assert.equal(dups.json.totalCount, 2);
  const next = await svc.req('GET', `/images?duplicatesOf=${first.json.id}&limit=1&sortOrder=asc&cursor=${encodeURIComponent(dups.json.pagination.nextCursor)}`, { token: alice });
  assert.deepEqual(next.json.images.map((i) => i.id), [third.json.id]);
  assert.equal(next.json.pagination.nextCursor, null);
  // Newest first by default, like every list.
  const desc = await svc.req('GET', `/images?duplicatesOf=${first.json.id}`, { token: alice });
  assert.deepEqual(desc.json.images.map((i) => i.id), [third.json.id, second.json.id]);
  // The cursor is bound to the listing.
  const cross = await svc.req('GET', `/images?limit=1&sortOrder=asc&cursor=${encodeURIComponent(dups.json.pagination.nextCursor)}`, { token: alice });
  assert.equal(cross.json.code, 'INVALID_CURSOR');
  // Bob's copy is not among alice's, and bob cannot list against alice's image.
  const asBob = await svc.req('GET', `/images?duplicatesOf=${first.json.id}`, { token: bob });
  assert.equal(asBob.status, 403);
  const bobList = await svc.req('GET', `/images?duplicatesOf=${bobs.json.id}`, { token: bob });
  assert.deepEqual(bobList.json.images, []);
  assert.equal(bobList.json.totalCount, 0);
  // A deleted copy leaves the listing.
  assert.equal((await svc.req('DELETE', `/images/${second.json.id}`, { token: alice })).status, 204);
  const after = await svc.req('GET', `/images?duplicatesOf=${third.json.id}`, { token: alice });
  assert.deepEqual(after.json.images.map((i) => i.id), [first.json.id]);
  const combo = await svc.req('GET', `/images?duplicatesOf=${first.json.id}&tag=x`, { token: alice });
  assert.equal(combo.status, 400);
  assert.equal(combo.json.code, 'VALIDATION_FAILED');
  const missing = await svc.req('GET', '/images?duplicatesOf=01J00000000000000000000000', { token: alice });
  assert.equal(missing.status, 404);
});
