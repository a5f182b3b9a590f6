// Responsive variants (issue 13): every configured width no wider than the main image, in AVIF
// and WebP, made on first request (once, under concurrent first requests), delivered like every
// file, 404 for anything not configured, and gone after a delete or an erasure. Runs in both
// modes (objects on disk, or in s3rver).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, DISTRIBUTED, Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { metric } from './lib/raw.mjs';

const work = mkdtempSync(path.join(tmpdir(), 'isvc-variants-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// Decoded by libvips (an independent decode of the bytes): width, height, loader and the
// metadata fields it found.
function inspect(bytes, name) {
  const file = path.join(work, name);
  writeFileSync(file, bytes);
  const fields = execFileSync('vipsheader', ['-a', file], { stderr: 'ignore' }).toString();
  const get = (k) => (fields.match(new RegExp(`^${k}: (.*)$`, 'm')) || [])[1];
  return {
    width: Number(get('width')), height: Number(get('height')), loader: get('vips-loader'),
    metadata: fields.split('\n').filter((l) => /^(exif-data|xmp-data|icc-profile-data|iptc-data)/.test(l)),
  };
}

async function withService(env, fn) {
  const svc = await new Service(env).start();
  try {
    await fn(svc);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
}

const expected = (w, h, fmt) => ({ width: w, height: h, format: fmt });

test('an upload offers every configured width up to its main image, in AVIF and WebP, with srcsets', async () => {
  await withService({}, async (svc) => {
    const token = svc.token('var-user');
    const up = await svc.upload(token, makePng(1200, 900, { seed: 31 }));
    assert.equal(up.status, 201);
    const want = [];
    for (const fmt of ['avif', 'webp']) for (const [w, h] of [[320, 240], [640, 480], [1024, 768]]) want.push(expected(w, h, fmt));
    assert.deepEqual(up.json.variants.map(({ width, height, format }) => ({ width, height, format })), want);
    for (const v of up.json.variants)
      assert.equal(v.url, `${svc.base}/files/images/var-user/variants/${up.json.id}/${v.width}.${v.format}`);
    const set = (fmt) => up.json.variants.filter((v) => v.format === fmt).map((v) => `${v.url} ${v.width}w`).join(', ');
    assert.deepEqual(up.json.srcset, { avif: set('avif'), webp: set('webp') });
    const got = await svc.req('GET', `/images/${up.json.id}`, { token });
    assert.deepEqual(got.json.variants, up.json.variants);
    const list = await svc.req('GET', '/images', { token });
    assert.deepEqual(list.json.images[0].variants, up.json.variants);
    assert.deepEqual(list.json.images[0].srcset, up.json.srcset);
    // A large photo: its main image is 2048 wide, so all six widths exist.
    const big = await svc.upload(token, makePng(3000, 2000, { seed: 5 }));
    assert.deepEqual(big.json.variants.filter((v) => v.format === 'webp').map((v) => [v.width, v.height]),
      [[320, 213], [640, 427], [1024, 683], [1280, 853], [1600, 1067], [2048, 1365]]);
  });
});

test('each variant decodes at its exact size and format, carries no metadata, and is cached like a file', async () => {
  await withService({}, async (svc) => {
    const token = svc.token('var-user');
    const up = await svc.upload(token, makePng(1200, 900, { seed: 32 }));
    for (const v of up.json.variants) {
      const res = await fetch(v.url);
      assert.equal(res.status, 200, v.url);
      assert.equal(res.headers.get('content-type'), `image/${v.format}`);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const etag = res.headers.get('etag');
      assert.match(etag, /^"[^"]+"$/);
      const bytes = Buffer.from(await res.arrayBuffer());
      const info = inspect(bytes, `${v.width}.${v.format}`);
      assert.equal(info.width, v.width, v.url);
      assert.equal(info.height, v.height, v.url);
      assert.equal(info.loader, v.format === 'avif' ? 'heifload' : 'webpload', v.url);
      assert.deepEqual(info.metadata, [], v.url);
      if (v.format === 'webp') assert.ok(bytes.length < up.json.processedSize, 'a variant is smaller than the main image');
      // Delivered as any immutable file: 304 on its ETag, ranges.
      assert.equal((await fetch(v.url, { headers: { 'if-none-match': etag } })).status, 304);
      const part = await fetch(v.url, { headers: { range: 'bytes=0-9' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 0-9/${bytes.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(0, 10));
    }
    assert.equal(await metric(svc.base, 'isvc_variant_generations_total', 'format="avif"'), 3);
    assert.equal(await metric(svc.base, 'isvc_variant_generations_total', 'format="webp"'), 3);
    assert.ok(await metric(svc.base, 'isvc_variant_bytes_total', 'format="avif"') > 0);
    assert.ok(await metric(svc.base, 'isvc_variant_requests_total', 'format="webp",result="hit"') >= 6);
    const summary = await svc.req('GET', '/metrics');
    assert.equal(summary.json.variantsGenerated, 6);
    assert.equal(summary.json.variantBytesServed,
      await metric(svc.base, 'isvc_variant_bytes_total', 'format="avif"') + await metric(svc.base, 'isvc_variant_bytes_total', 'format="webp"'));
  });
});

test('20 concurrent first requests for one variant: one encode, the same bytes for all', async () => {
  await withService({}, async (svc) => {
    const token = svc.token('var-user');
    const up = await svc.upload(token, makePng(1600, 1200, { seed: 33 }));
    const url = up.json.variants.find((v) => v.format === 'avif' && v.width === 1024).url;
    const before = await metric(svc.base, 'isvc_variant_generations_total', 'format="avif"');
    const all = await Promise.all(Array.from({ length: 20 }, async () => {
      const r = await fetch(url);
      return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
    }));
    assert.deepEqual(all.map((r) => r.status), Array(20).fill(200));
    for (const r of all) assert.deepEqual(r.body, all[0].body);
    assert.equal(await metric(svc.base, 'isvc_variant_generations_total', 'format="avif"'), before + 1);
  });
});

test('only configured widths and formats of existing images exist: everything else is 404', async () => {
  await withService({}, async (svc) => {
    const token = svc.token('var-user');
    const up = await svc.upload(token, makePng(1200, 900, { seed: 34 }));
    const base = `${svc.base}/files/images/var-user/variants/${up.json.id}`;
    const missing = [
      `${base}/500.webp`,                       // not a configured width
      `${base}/1280.avif`,                      // configured, but wider than the 1200-px main image
      `${base}/640.jpg`, `${base}/640.png`,     // not a variant format
      `${base}/0640.webp`, `${base}/640.WEBP`,  // other spellings of a real variant
      `${svc.base}/files/images/someone-else/variants/${up.json.id}/640.webp`,  // another folder
      `${svc.base}/files/images/var-user/variants/01JD0000000000000000000000/640.webp`,  // no image
      `${svc.base}/files/images/var-user/variants/not-an-id/640.webp`,
    ];
    for (const url of missing) {
      const r = await fetch(url);
      assert.equal(r.status, 404, url);
      assert.equal((await r.json()).code, 'NOT_FOUND');
    }
    assert.equal(await metric(svc.base, 'isvc_variant_generations_total', 'format="webp"'), 0);
  });
});

test('VARIANT_WIDTHS and VARIANT_FORMATS decide what exists; VARIANT_FORMATS=none turns variants off', async () => {
  await withService({ VARIANT_WIDTHS: '800,400', VARIANT_FORMATS: 'webp' }, async (svc) => {
    const token = svc.token('var-user');
    const up = await svc.upload(token, makePng(1200, 900, { seed: 35 }));
    assert.deepEqual(up.json.variants.map(({ width, height, format }) => ({ width, height, format })),
      [expected(400, 300, 'webp'), expected(800, 600, 'webp')]);
    assert.deepEqual(Object.keys(up.json.srcset), ['webp']);
    assert.equal((await fetch(`${svc.base}/files/images/var-user/variants/${up.json.id}/400.avif`)).status, 404);
    assert.equal((await fetch(`${svc.base}/files/images/var-user/variants/${up.json.id}/640.webp`)).status, 404);
    assert.equal((await fetch(up.json.variants[0].url)).status, 200);
  });
  await withService({ VARIANT_FORMATS: 'none' }, async (svc) => {
    const token = svc.token('var-user');
    const up = await svc.upload(token, makePng(1200, 900, { seed: 36 }));
    assert.equal(up.json.variants, undefined);
    assert.equal(up.json.srcset, undefined);
    assert.equal((await fetch(`${svc.base}/files/images/var-user/variants/${up.json.id}/640.webp`)).status, 404);
  });
});

test('a delete and an erasure remove the variants that were made', async () => {
  await withService({}, async (svc) => {
    const token = svc.token('var-user');
    const a = await svc.upload(token, makePng(1200, 900, { seed: 37 }));
    const b = await svc.upload(token, makePng(1200, 900, { seed: 38 }));
    for (const img of [a, b]) for (const v of img.json.variants) assert.equal((await fetch(v.url)).status, 200);
    // Edited after its variants were made (the edit rewrites the record, which names them in
    // distributed mode: the delete removes them without listing).
    const edited = await svc.req('PATCH', `/images/${a.json.id}`, { token, body: { title: 'edited', version: a.json.version } });
    assert.equal(edited.status, 200);
    assert.equal((await svc.req('DELETE', `/images/${a.json.id}`, { token })).status, 204);
    for (const v of a.json.variants) assert.equal((await fetch(v.url)).status, 404, v.url);
    const erased = await svc.req('DELETE', '/users/var-user/images', { token });
    assert.equal(erased.status, 200);
    assert.equal(erased.json.deleted, 1);
    for (const v of b.json.variants) assert.equal((await fetch(v.url)).status, 404, v.url);
    // Nothing left for fsck to call an orphan.
    const env = { ...process.env, DATA_DIR: svc.dataDir, JWT_SECRET: svc.secret, ...svc.backend };
    const fsck = JSON.parse(execFileSync(BIN, ['fsck', '--json', '--grace', '0s'], { env }).toString());
    assert.equal(fsck.orphans, 0, JSON.stringify(fsck.orphanKeys));
  });
});

test('an imported legacy record whose original exists offers variants made from that original', { skip: DISTRIBUTED && 'writes the legacy object into the embedded object folder' }, async () => {
  await withService({}, async (svc) => {
    const service = svc.token('legacy-api', 'service');
    const user = 'legacy-user';
    const key = `gallery/${user}/castle.png`;
    const png = makePng(1100, 700, { seed: 39 });
    mkdirSync(path.join(svc.dataDir, 'objects', 'gallery', user), { recursive: true });
    writeFileSync(path.join(svc.dataDir, 'objects', key), png);
    const id = randomUUID();
    const body = {
      id, userId: user, s3Key: key, originalFilename: 'castle.png', mimeType: 'image/png',
      fileSize: png.length, width: 1100, height: 700, tags: [], createdAt: '2023-04-01T10:00:00.000Z',
    };
    const r = await svc.req('POST', '/images', { token: service, body });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual(r.json.variants.filter((v) => v.format === 'webp').map((v) => [v.width, v.height]),
      [[320, 204], [640, 407], [1024, 652]]);
    const v = r.json.variants.find((x) => x.format === 'avif' && x.width === 640);
    const res = await fetch(v.url);
    assert.equal(res.status, 200);
    const info = inspect(Buffer.from(await res.arrayBuffer()), 'legacy.avif');
    assert.deepEqual([info.width, info.height, info.loader], [640, 407, 'heifload']);
    // Without dimensions, nothing is offered and nothing can be made.
    const bare = await svc.req('POST', '/images', { token: service, body: { ...body, id: randomUUID(), width: undefined, height: undefined } });
    assert.equal(bare.status, 201, JSON.stringify(bare.json));
    assert.deepEqual(bare.json.variants, []);
    assert.deepEqual(bare.json.srcset, {});
    assert.equal((await fetch(`${svc.base}/files/images/${user}/variants/${bare.json.id}/320.webp`)).status, 404);
  });
});
