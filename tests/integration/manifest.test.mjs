// Every file of ../shared/testdata/images/MANIFEST.tsv gets exactly the listed outcome; accepted
// files come out as WebP with the exact SPEC dimensions, upright, without metadata, alpha kept,
// and as the same picture as an independent decode (lib/pixels.mjs): upright, sRGB, not tinted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MISSING_TOOLS, decodeFile, decodeWebp, exifOrientation, jpegExifTags } from './lib/decode.mjs';
import { centreSquare, difference, shrink, view } from './lib/pixels.mjs';
import { Service, HAVE_TESTDATA, manifest, testImage } from './lib/server.mjs';
import { inspectWebp } from './lib/webp.mjs';

// Mean cell difference allowed against the reference (see realworld.tsv); 100x100 photos lose
// more to WebP's 4:2:0 chroma than large ones.
const TOLERANCE = { 'photo_small_100x100.jpg': 3, 'jpeg_zip_polyglot.jpg': 3 };
const NO_TOOLS = MISSING_TOOLS.length > 0 && `needs ${MISSING_TOOLS.join(', ')} (scripts/install-deps.sh)`;


let svc;
before(async () => { svc = await new Service().start(); });
after(async () => { assert.equal((await svc.stop()).code, 0); });

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('every manifest file gets its listed outcome', { skip: !HAVE_TESTDATA && 'no shared test data' }, async () => {
  const token = svc.token('manifest-user');
  const accepted = [];
  for (const row of manifest()) {
    const bytes = testImage(row.file);
    const r = await svc.upload(token, bytes, {}, row.file);
    const what = `${row.file}: ${r.status} ${JSON.stringify(r.json)?.slice(0, 200)}`;
    if (row.expect === 'reject') {
      assert.equal(r.status, Number(row.status), what);
      assert.equal(r.json.code, row.code, what);
      assert.equal(r.json.requestId, r.headers.get('x-request-id'), what);
      continue;
    }
    if (row.expect === 'either') {
      assert.ok(r.status === 201 || r.status === 400, what);
      if (r.status === 400) continue;
    } else {
      assert.equal(r.status, 201, what);
    }
    const img = r.json;
    assert.match(img.id, ULID);
    assert.equal(img.userId, 'manifest-user');
    assert.equal(img.mimeType, `image/${row.format}`, what);
    assert.equal(img.fileSize, Number(row.bytes));
    assert.equal(img.width, Number(row.width), what);
    assert.equal(img.height, Number(row.height), what);
    assert.equal(img.aspectRatio, Math.round((img.width / img.height) * 1000) / 1000);
    assert.equal(img.format, 'webp');
    assert.equal(img.quality, 85);
    assert.equal(img.processingStatus, 'completed');
    assert.equal(img.version, 1);
    assert.equal(img.s3Bucket, svc.bucket);
    assert.equal(img.s3Key, `images/manifest-user/${img.id}.webp`);
    assert.equal(img.thumbnailKey, `images/manifest-user/thumbnails/${img.id}.webp`);
    assert.equal(img.imageUrl, `${svc.base}/files/${img.s3Key}`);
    assert.equal(img.thumbnailUrl, `${svc.base}/files/${img.thumbnailKey}`);
    assert.equal(img.originalFilename, row.file);
    for (const f of ['createdAt', 'updatedAt', 'uploadedAt']) assert.match(img[f], ISO);

    const main = Buffer.from(await (await fetch(img.imageUrl)).arrayBuffer());
    const thumb = Buffer.from(await (await fetch(img.thumbnailUrl)).arrayBuffer());
    const m = inspectWebp(main), t = inspectWebp(thumb);
    const scale = Math.min(1, 2048 / Math.max(img.width, img.height));
    assert.deepEqual([m.width, m.height], [Math.round(img.width * scale), Math.round(img.height * scale)], what);
    assert.deepEqual([t.width, t.height], [400, 400], what);
    assert.equal(img.processedSize, main.length);
    for (const w of [m, t]) {
      assert.deepEqual(w.chunks.filter((c) => !['VP8 ', 'VP8L', 'VP8X', 'ALPH'].includes(c)), [], `${row.file} metadata chunks`);
      assert.equal(w.animated, false);
    }
    if (row.file.startsWith('alpha')) assert.ok(m.alpha && t.alpha, `${row.file} keeps alpha`);
    if (row.file === 'photo_with_gps_exif.jpg') {
      for (const b of [main, thumb]) assert.equal(b.indexOf('TestCam'), -1);
    }
    if (row.file === 'photo_exif_rotated.jpg') assert.deepEqual([m.width, m.height], [2048, 1280]);
    if (row.file === 'photo_with_gps_exif.jpg') {
      assert.ok(jpegExifTags(bytes).includes(0x8825), 'the fixture carries a GPS IFD');
      for (const b of [main, thumb]) assert.equal(b.indexOf('Exif\0\0'), -1);
    }
    if (!NO_TOOLS) accepted.push({ row, bytes, main, thumb });
  }

  // The pictures themselves, against djpeg/jpgicc/dwebp and the PNG decoder of lib/pixels.mjs.
  for (const { row, bytes, main, thumb } of accepted) {
    const tol = TOLERANCE[row.file] ?? 1.5;
    const raw = shrink(decodeFile(bytes)), o = exifOrientation(bytes);
    const ref = view(raw, { orientation: o });
    const d = difference(shrink(decodeWebp(main)), ref), dt = difference(decodeWebp(thumb), centreSquare(ref));
    const what = `${row.file}: main ${JSON.stringify(d)} thumb ${JSON.stringify(dt)} (tolerance ${tol})`;
    assert.ok(d.colour <= tol && d.tint <= tol && d.alpha <= 1.5, what);
    assert.ok(dt.colour <= Math.max(4, tol + 1) && dt.alpha <= 8, what);
    if (row.file === 'photo_exif_rotated.jpg') {
      // Upright by pixels: the stored pixels (orientation 1) and every other orientation miss.
      assert.equal(o, 6);
      for (const wrong of [1, 2, 3, 4, 5, 7, 8].map((x) => view(raw, { orientation: x })).filter((v) => v.width === ref.width)) {
        const dw = difference(shrink(decodeWebp(main)), wrong);
        assert.ok(dw.colour > 3 * tol, `${row.file} also matches orientation ${wrong.orientation}: ${dw.colour}`);
      }
    }
    if (row.file === 'photo_cmyk.jpg') {
      // CMYK through its profile: neither inverted (a negative is ~100 levels off) nor tinted.
      assert.ok(d.tint <= 1, what);
    }
  }
});
