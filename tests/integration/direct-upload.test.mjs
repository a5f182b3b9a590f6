// Direct-to-storage uploads (SPEC §2): start → plain `curl -T` to the signed URL → complete.
// Embedded mode signs a URL on the service itself; distributed mode presigns an S3 PUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { inspectWebp as webpInfo } from './lib/webp.mjs';
import { putObject, readObject } from './lib/store.mjs';

let svc, alice, bob, dir;
before(async () => {
  svc = await new Service({ MAX_FILE_SIZE: String(2 * 1024 * 1024) }).start();
  alice = svc.token('alice');
  bob = svc.token('bob');
  dir = mkdtempSync(path.join(tmpdir(), 'isvc-direct-'));
});
after(async () => {
  assert.equal((await svc.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

// PUTs a file with curl, as a client without any SDK would; returns the HTTP status.
function curlPut(url, bytes, contentType = 'image/png') {
  const file = path.join(dir, `f-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, bytes);
  return Number(execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', file,
    '-H', `Content-Type: ${contentType}`, url]).toString());
}

function start(s, token, body) {
  return s.req('POST', '/images/uploads', { token, body });
}

test('start, curl -T, complete: the image is processed like a multipart upload', async () => {
  const png = makePng(640, 480, { seed: 11 });
  let r = await start(svc, alice, {
    filename: 'direct.png', contentType: 'image/png', contentLength: png.length,
    title: 'direct', tags: ['Sky', 'sea'], albumId: 'holiday',
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const up = r.json;
  assert.match(up.uploadId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(up.method, 'PUT');
  assert.deepEqual(up.headers, { 'Content-Type': 'image/png' });
  assert.match(up.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const ttl = Date.parse(up.expiresAt) - Date.now();
  assert.ok(ttl > 800_000 && ttl <= 900_000, `ttl ${ttl}`);
  if (DISTRIBUTED) {
    assert.match(up.uploadUrl, /\/temp\/[0-9A-Z]{26}\?.*X-Amz-Signature=[0-9a-f]{64}/);
  } else {
    assert.ok(up.uploadUrl.startsWith(`${svc.base}/uploads/${up.uploadId}?expires=`), up.uploadUrl);
  }

  // Completing before any bytes arrived names the missing file.
  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'VALIDATION_FAILED');
  assert.equal(r.json.details.field, 'file');

  assert.equal(curlPut(up.uploadUrl, png), 200);

  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: bob });
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'NOT_AUTHORIZED');

  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const img = r.json;
  assert.equal(img.userId, 'alice');
  assert.equal(img.title, 'direct');
  assert.deepEqual(img.tags, ['Sky', 'sea']);
  assert.equal(img.albumId, 'holiday');
  assert.equal(img.originalFilename, 'direct.png');
  assert.equal(img.mimeType, 'image/png');
  assert.equal(img.fileSize, png.length);
  assert.equal(img.width, 640);
  assert.equal(img.height, 480);
  const main = await fetch(img.imageUrl);
  assert.equal(main.status, 200);
  const info = webpInfo(Buffer.from(await main.arrayBuffer()));
  assert.deepEqual([info.width, info.height], [640, 480]);

  // A retried complete answers with the same image and creates nothing new.
  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.equal(r.status, 200);
  assert.equal(r.json.id, img.id);
  r = await svc.req('GET', '/images?albumId=holiday', { token: alice });
  assert.equal(r.json.totalCount, 1);
});

test('start validates like an upload', async () => {
  const cases = [
    [{ filename: 'a.pdf', contentType: 'application/pdf', contentLength: 10 }, 400, 'INVALID_FILE_TYPE', 'contentType'],
    [{ filename: 'a.png', contentType: 'image/png', contentLength: 3 * 1024 * 1024 }, 413, 'FILE_TOO_LARGE', 'file'],
    [{ filename: 'a.png', contentType: 'image/png', contentLength: 0 }, 400, 'VALIDATION_FAILED', 'contentLength'],
    [{ contentType: 'image/png', contentLength: 10 }, 400, 'VALIDATION_FAILED', 'filename'],
    [{ filename: 'a.png', contentType: 'image/png' }, 400, 'VALIDATION_FAILED', 'contentLength'],
    [{ filename: 'a.png', contentType: 'image/png', contentLength: 10, owner: 'x' }, 400, 'VALIDATION_FAILED', 'owner'],
    [{ filename: 'a.png', contentType: 'image/png', contentLength: 10, title: 'x'.repeat(300) }, 400, 'VALIDATION_FAILED', 'title'],
  ];
  for (const [body, status, code, field] of cases) {
    const r = await start(svc, alice, body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.json.code, code, JSON.stringify(r.json));
    assert.equal(r.json.details.field, field, JSON.stringify(r.json));
  }
  assert.equal((await start(svc, undefined, { filename: 'a.png', contentType: 'image/png', contentLength: 1 })).status, 401);
  const r = await svc.req('POST', '/images/uploads', { token: alice, body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 415);
  assert.equal((await svc.req('POST', '/images/uploads/01J00000000000000000000000/complete', { token: alice })).status, 404);
  assert.equal((await svc.req('POST', '/images/uploads/not-an-id/complete', { token: alice })).status, 404);
});

test('bytes that are not an image are refused at complete with the upload error codes', async () => {
  let r = await start(svc, alice, { filename: 'x.png', contentType: 'image/png', contentLength: 14 });
  assert.equal(curlPut(r.json.uploadUrl, Buffer.from('not an image!!')), 200);
  r = await svc.req('POST', `/images/uploads/${r.json.uploadId}/complete`, { token: alice });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_FILE_TYPE');
});

test('the upload URL expires', async () => {
  const short = await new Service({ UPLOAD_URL_TTL_S: '1' }).start();
  try {
    const tok = short.token('carol');
    const png = makePng(200, 150, { seed: 3 });
    const r = await start(short, tok, { filename: 'late.png', contentType: 'image/png', contentLength: png.length });
    assert.equal(r.status, 201);
    // Signatures carry whole seconds: wait until the expiry second has fully passed.
    const wait = Date.parse(r.json.expiresAt) + 1100 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    assert.equal(curlPut(r.json.uploadUrl, png), 403);
    const done = await short.req('POST', `/images/uploads/${r.json.uploadId}/complete`, { token: tok });
    assert.equal(done.status, 400);
    assert.equal(done.json.details.field, 'file');
  } finally {
    assert.equal((await short.stop()).code, 0);
  }
});

test('embedded upload URLs refuse a forged signature and oversize bodies', { skip: DISTRIBUTED && 'S3 checks its own URLs' }, async () => {
  const r = await start(svc, alice, { filename: 'f.png', contentType: 'image/png', contentLength: 100 });
  const forged = r.json.uploadUrl.replace(/signature=([0-9a-f])/, (_, c) => `signature=${c === '0' ? '1' : '0'}`);
  assert.equal(curlPut(forged, makePng(10, 10)), 403);
  const other = r.json.uploadUrl.replace(r.json.uploadId, '01J00000000000000000000000');
  assert.equal(curlPut(other, makePng(10, 10)), 403);
  assert.equal(curlPut(r.json.uploadUrl, Buffer.alloc(2 * 1024 * 1024 + 1)), 413);
});

test('ten concurrent completes without an Idempotency-Key make exactly one image', async () => {
  const png = makePng(400, 300, { seed: 21 });
  let r = await start(svc, alice, { filename: 'race.png', contentType: 'image/png', contentLength: png.length, albumId: 'race-once' });
  assert.equal(r.status, 201);
  const up = r.json;
  assert.equal(curlPut(up.uploadUrl, png), 200);
  const answers = await Promise.all(Array.from({ length: 10 }, () =>
    svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice })));
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
  const id = answers.find((a) => a.status === 201).json.id;
  for (const a of answers) {
    if (a.status === 409) {
      assert.equal(a.json.code, 'UPLOAD_IN_PROGRESS');
      assert.equal(a.headers.get('retry-after'), '1');
    } else {
      assert.ok(a.status === 201 || a.status === 200, JSON.stringify(a.json));
      assert.equal(a.json.id, id);
    }
  }
  // A later complete returns the same image; one image exists.
  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.deepEqual([r.status, r.json.id], [200, id]);
  r = await svc.req('GET', '/images?albumId=race-once', { token: alice });
  assert.equal(r.json.totalCount, 1);
  assert.deepEqual(r.json.images.map((i) => i.id), [id]);
});

test('complete refuses a stored object whose size differs from the declared contentLength', async () => {
  const png = makePng(240, 160, { seed: 31 });
  const r = await start(svc, alice, { filename: 'sized.png', contentType: 'image/png', contentLength: png.length, albumId: 'sized' });
  const up = r.json;
  const cases = [
    [Buffer.concat([png, Buffer.from('trailing')]), 413, 'FILE_TOO_LARGE'],
    [png.subarray(0, png.length - 1), 400, 'VALIDATION_FAILED'],
  ];
  for (const [bytes, status, code] of cases) {
    // Written behind the service's back (S3 would take any length on a presigned URL).
    await putObject(svc, `temp/${up.uploadId}`, bytes);
    const done = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
    assert.equal(done.status, status, JSON.stringify(done.json));
    assert.equal(done.json.code, code);
    assert.equal(done.json.details.field, 'contentLength');
    assert.equal(done.json.details.declaredBytes, String(png.length));
    assert.equal(done.json.details.receivedBytes, String(bytes.length));
    assert.equal(await readObject(svc, `temp/${up.uploadId}`), null, 'the refused object is removed');
  }
  assert.equal((await svc.req('GET', '/images?albumId=sized', { token: alice })).json.totalCount, 0);
  // The URL still works for the right bytes.
  assert.equal(curlPut(up.uploadUrl, png), 200);
  const done = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.equal(done.status, 201, JSON.stringify(done.json));
});

test('the embedded PUT is bound to the declared length and type, judged from its head', { skip: DISTRIBUTED && 'S3 checks its own URLs' }, async () => {
  const png = makePng(200, 200, { seed: 41 });
  let r = await start(svc, alice, { filename: 'bound.png', contentType: 'image/png', contentLength: png.length });
  const up = r.json;
  assert.match(up.uploadUrl, new RegExp(`[?&]length=${png.length}&type=image/png&signature=[0-9a-f]{64}$`));
  const put = (url, body, headers = { 'content-type': 'image/png' }) => svc.req('PUT', new URL(url).pathname + new URL(url).search, { body, headers });
  const cases = [
    [Buffer.concat([png, Buffer.alloc(1)]), { 'content-type': 'image/png' }, 413, 'FILE_TOO_LARGE', 'contentLength'],
    [png.subarray(1), { 'content-type': 'image/png' }, 400, 'VALIDATION_FAILED', 'contentLength'],
    [png, { 'content-type': 'image/jpeg' }, 400, 'VALIDATION_FAILED', 'contentType'],
    [png, { 'content-type': 'text/html' }, 400, 'VALIDATION_FAILED', 'contentType'],
    [png, {}, 400, 'VALIDATION_FAILED', 'contentType'],
  ];
  for (const [body, headers, status, code, field] of cases) {
    r = await put(up.uploadUrl, body, headers);
    assert.equal(r.status, status, `${JSON.stringify(headers)} ${body.length} → ${r.buf}`);
    assert.equal(r.json.code, code);
    assert.equal(r.json.details.field, field);
    assert.equal(await readObject(svc, `temp/${up.uploadId}`), null, 'nothing is stored');
  }
  // Changing what the URL declares breaks its signature.
  for (const [from, to] of [[`length=${png.length}`, `length=${png.length + 1}`], ['type=image/png', 'type=image/jpeg']]) {
    r = await put(up.uploadUrl.replace(from, to), png, { 'content-type': to.startsWith('type=') ? 'image/jpeg' : 'image/png' });
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'NOT_AUTHORIZED');
  }
  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.equal(r.json.details.field, 'file');  // nothing arrived
  r = await put(up.uploadUrl, png, { 'content-type': 'image/png; charset=binary' });
  assert.equal(r.status, 200);
  assert.deepEqual(await readObject(svc, `temp/${up.uploadId}`), png);
  r = await svc.req('POST', `/images/uploads/${up.uploadId}/complete`, { token: alice });
  assert.equal(r.status, 201, JSON.stringify(r.json));
});
