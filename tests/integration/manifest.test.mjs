// Every file of ../shared/testdata/images/MANIFEST.tsv gets exactly the listed outcome; accepted
// files come out as WebP with the exact SPEC dimensions, upright, without metadata, alpha kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service, HAVE_TESTDATA, manifest, testImage } from './lib/server.mjs';
import { inspectWebp } from './lib/webp.mjs';

let svc;
before(async () => { svc = await new Service().start(); });
after(async () => { assert.equal((await svc.stop()).code, 0); });

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('every manifest file gets its listed outcome', { skip: !HAVE_TESTDATA && 'no shared test data' }, async () => {
  const token = svc.token('manifest-user');
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
  }
});
