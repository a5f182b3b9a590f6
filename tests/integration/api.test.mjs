// Error codes, headers, CORS, tags, PATCH/DELETE semantics, health, metrics, docs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Service, HAVE_TESTDATA, testImage, signHs256 } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

let svc, alice, bob;
before(async () => {
  svc = await new Service().start();
  alice = svc.token('alice');
  bob = svc.token('bob');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

const png = (seed = 0) => makePng(160, 120, { seed });

function assertError(r, status, code, field) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.code, code, JSON.stringify(r.json));
  assert.equal(typeof r.json.error, 'string');
  assert.equal(typeof r.json.message, 'string');
  assert.equal(r.json.requestId, r.headers.get('x-request-id'));
  if (field) assert.equal(r.json.details.field, field, JSON.stringify(r.json));
}

test('security headers and request ids on every response', async () => {
  for (const r of [await svc.req('GET', '/health'), await svc.req('GET', '/images'), await svc.req('GET', '/nope')]) {
    assert.equal(r.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
    assert.ok(r.headers.get('x-request-id').length <= 64);
  }
  let r = await svc.req('GET', '/health', { headers: { 'x-request-id': 'trace.abc-123_X' } });
  assert.equal(r.headers.get('x-request-id'), 'trace.abc-123_X');
  r = await svc.req('GET', '/images', { headers: { 'x-request-id': 'bad id with spaces' } });
  assert.notEqual(r.headers.get('x-request-id'), 'bad id with spaces');
  assert.equal(r.json.requestId, r.headers.get('x-request-id'));
  r = await svc.req('GET', '/health', { headers: { 'x-request-id': 'a'.repeat(129) } });
  assert.notEqual(r.headers.get('x-request-id'), 'a'.repeat(129));
});

test('401 for missing, malformed, expired, wrongly signed and alg:none tokens', async () => {
  const now = Math.floor(Date.now() / 1000);
  const tokens = [
    undefined, 'garbage', signHs256('wrong-secret', { sub: 'alice', exp: now + 60 }),
    signHs256(svc.secret, { sub: 'alice', exp: now - 120 }),
    signHs256(svc.secret, { exp: now + 60 }),
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: now + 60 })).toString('base64url')}.`,
  ];
  for (const token of tokens) {
    const r = await svc.req('GET', '/images', { token });
    assertError(r, 401, 'UNAUTHORIZED');
    assert.equal(r.json.error, 'Unauthorized');
  }
});

test('the token subcommand prints a token the server accepts', async () => {
  const { execFileSync } = await import('node:child_process');
  const { BIN } = await import('./lib/server.mjs');
  const tok = execFileSync(BIN, ['token', '--user', 'cli-user', '--role', 'admin', '--ttl', '1h'],
    { env: { ...process.env, JWT_SECRET: svc.secret, DATA_DIR: svc.dataDir } }).toString().trim();
  const r = await svc.req('GET', '/images', { token: tok });
  assert.equal(r.status, 200);
});

test('upload validation codes name the field', async () => {
  assertError(await svc.upload(alice, png(), { title: 'x'.repeat(256) }), 400, 'VALIDATION_FAILED', 'title');
  assertError(await svc.upload(alice, png(), { description: 'x'.repeat(5001) }), 400, 'VALIDATION_FAILED', 'description');
  assertError(await svc.upload(alice, png(), { altText: 'x'.repeat(256) }), 400, 'VALIDATION_FAILED', 'altText');
  assertError(await svc.upload(alice, png(), { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }), 400, 'VALIDATION_FAILED', 'tags');
  assertError(await svc.upload(alice, png(), { tags: 'x'.repeat(51) }), 400, 'VALIDATION_FAILED', 'tags');
  assertError(await svc.upload(alice, png(), { albumId: 'not valid!' }), 400, 'VALIDATION_FAILED', 'albumId');
  assertError(await svc.upload(alice, null, { title: 'no file' }), 400, 'VALIDATION_FAILED', 'file');
  const two = new FormData();
  two.append('file', new Blob([png(1)]), 'a.png');
  two.append('file', new Blob([png(2)]), 'b.png');
  assertError(await svc.req('POST', '/images', { token: alice, body: two }), 400, 'VALIDATION_FAILED', 'file');
  assertError(await svc.upload(alice, Buffer.from('GIF89a not allowed')), 400, 'INVALID_FILE_TYPE');
  assertError(await svc.upload(alice, Buffer.alloc(0)), 400, 'INVALID_FILE_TYPE');
  assertError(await svc.upload(alice, makePng(99, 120)), 400, 'INVALID_DIMENSIONS');
  const trunc = makePng(600, 400);
  assertError(await svc.upload(alice, trunc.subarray(0, trunc.length >> 1)), 400, 'INVALID_IMAGE');
  assertError(await svc.upload(alice, Buffer.alloc(10 * 1024 * 1024 + 1, 1)), 413, 'FILE_TOO_LARGE');
  const wrongType = await svc.req('POST', '/images', { token: alice, body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(wrongType.status, 415);
});

test('an oversized Content-Length is refused before the body is sent', async () => {
  const reply = await new Promise((resolve, reject) => {
    const sock = net.connect(svc.port, '127.0.0.1', () => {
      sock.write(`POST /images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\n` +
        'Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 50000000\r\n\r\n');
    });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 413/);
  assert.match(reply, /"code":"FILE_TOO_LARGE"/);
});

test('tags arrive in three shapes and are normalised the same way', async () => {
  const expected = ['castle', 'medieval'];
  const shapes = [{ tags: [' castle ', '', 'medieval', 'castle'] }, { 'tags[]': ['castle', 'medieval', 'castle'] }, { tags: '["castle"," medieval ","castle",""]' }];
  for (const [i, fields] of shapes.entries()) {
    const r = await svc.upload(alice, png(10 + i), fields);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual(r.json.tags, expected);
  }
});

test('get, patch and delete with ownership, ids and versions', async () => {
  const up = await svc.upload(alice, png(20), { title: 'Castle', albumId: 'album-1' }, '../../etc/evil name.png');
  assert.equal(up.status, 201);
  const img = up.json;
  assert.equal(img.originalFilename, 'evil name.png');
  assert.equal((await svc.req('GET', `/images/${img.id}`, { token: alice })).json.title, 'Castle');
  assertError(await svc.req('GET', `/images/${img.id}`, { token: bob }), 403, 'NOT_AUTHORIZED');
  assertError(await svc.req('PATCH', `/images/${img.id}`, { token: bob, body: { title: 'x', version: 1 } }), 403, 'NOT_AUTHORIZED');
  assertError(await svc.req('DELETE', `/images/${img.id}`, { token: bob }), 403, 'NOT_AUTHORIZED');
  assertError(await svc.req('GET', '/images/not-an-id', { token: alice }), 400, 'INVALID_IMAGE_ID');
  assertError(await svc.req('GET', '/images/01ARZ3NDEKTSV4RRFFQ69G5FAV', { token: alice }), 404, 'IMAGE_NOT_FOUND');

  let r = await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { title: 'New', description: 'd', altText: 'a', tags: ['x', ' x ', 'y'], albumId: 'album-2', version: 1 } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.version, 2);
  assert.equal(r.json.title, 'New');
  assert.deepEqual(r.json.tags, ['x', 'y']);
  assert.equal(r.json.albumId, 'album-2');
  assert.ok(r.json.updatedAt >= img.updatedAt);
  assert.equal(r.json.createdAt, img.createdAt);
  r = await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { title: 'Stale', version: 1 } });
  assertError(r, 409, 'VERSION_MISMATCH');
  assert.equal(r.json.currentVersion, 2);
  r = await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { albumId: null, version: 2 } });
  assert.equal(r.status, 200);
  assert.equal(r.json.albumId, undefined);
  assertError(await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { s3Key: 'x', version: 3 } }), 400, 'VALIDATION_FAILED', 's3Key');
  assertError(await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { colour: 'red', version: 3 } }), 400, 'VALIDATION_FAILED', 'colour');
  assertError(await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { title: 'no version' } }), 400, 'VALIDATION_FAILED', 'version');
  assertError(await svc.req('PATCH', `/images/${img.id}`, { token: alice, body: { title: 'x'.repeat(256), version: 3 } }), 400, 'VALIDATION_FAILED', 'title');

  const service = svc.token('legacy-api', 'service');
  assert.equal((await svc.req('GET', `/images/${img.id}`, { token: service })).status, 200);
  assertError(await svc.req('DELETE', `/images/${img.id}`, { token: service }), 403, 'NOT_AUTHORIZED');
  const admin = svc.token('root', 'admin');
  assert.equal((await svc.req('PATCH', `/images/${img.id}`, { token: admin, body: { title: 'By admin', version: 3 } })).status, 200);

  r = await svc.req('DELETE', `/images/${img.id}`, { token: alice });
  assert.equal(r.status, 204);
  assert.equal(r.buf.length, 0);
  assertError(await svc.req('GET', `/images/${img.id}`, { token: alice }), 404, 'IMAGE_NOT_FOUND');
  assert.equal((await fetch(img.imageUrl)).status, 404);
  assert.equal((await fetch(img.thumbnailUrl)).status, 404);
  assertError(await svc.req('DELETE', `/images/${img.id}`, { token: alice }), 404, 'IMAGE_NOT_FOUND');
  const admin2 = await svc.upload(alice, png(21));
  assert.equal((await svc.req('DELETE', `/images/${admin2.json.id}`, { token: admin })).status, 204);
});

test('list validation and cursor errors', async () => {
  for (const q of ['limit=0', 'limit=101', 'limit=abc', 'sortOrder=sideways', 'limit=1&limit=2'])
    assertError(await svc.req('GET', `/images?${q}`, { token: alice }), 400, 'VALIDATION_FAILED');
  assertError(await svc.req('GET', '/images?cursor=garbage', { token: alice }), 400, 'INVALID_CURSOR');
});

test('CORS: exact, subdomain and look-alike origins', async () => {
  const pre = (origin) => svc.req('OPTIONS', '/images', { headers: { origin, 'access-control-request-method': 'POST' } });
  for (const ok of ['https://lego-moc.com', 'https://www.lego-moc.com', 'https://a.b.lego-moc.com', 'http://localhost:3002']) {
    const r = await pre(ok);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), ok);
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, DELETE, OPTIONS');
    assert.equal(r.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, X-Requested-With, Idempotency-Key');
    assert.equal(r.headers.get('access-control-max-age'), '86400');
    assert.match(r.headers.get('vary'), /Origin/);
  }
  for (const bad of ['https://lego-moc.com.evil.com', 'https://evillego-moc.com', 'http://lego-moc.com', 'https://evil.com', 'null']) {
    const r = await pre(bad);
    assert.equal(r.headers.get('access-control-allow-origin'), null, bad);
  }
  const r = await svc.req('GET', '/images', { headers: { origin: 'https://www.lego-moc.com' } });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://www.lego-moc.com');
});

test('health, metrics and api-docs', async () => {
  let r = await svc.req('GET', '/health');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'healthy');
  assert.deepEqual(r.json.services, svc.expectedServices());
  const up = await svc.upload(alice, png(30));
  assert.equal(up.status, 201);
  await fetch(up.json.thumbnailUrl);
  await fetch(up.json.thumbnailUrl);
  r = await svc.req('GET', '/metrics');
  assert.equal(r.status, 200);
  const m = r.json;
  assert.ok(Number.isInteger(m.totalImages) && m.totalImages >= 1);
  assert.ok(m.imagesUploadedToday >= 1);
  assert.match(m.totalStorageUsed, /^\d+(\.\d)? (B|KB|MB|GB|TB)$/);
  assert.ok(m.totalStorageBytes > 0);
  assert.match(m.averageUploadLatency, /^\d+ms$/);
  assert.ok(m.averageUploadLatencyMs > 0 && m.p95UploadLatencyMs > 0);
  assert.ok(m.cacheHitRate > 0 && m.cacheHitRate <= 1);
  r = await svc.req('GET', '/api-docs');
  assert.equal(r.status, 200);
  assert.match(r.buf.toString(), /^openapi: 3/);
  assertError(await svc.req('GET', '/no-such-route'), 404, 'NOT_FOUND');
  assert.equal((await svc.req('PUT', '/images')).status, 405);
});

test('a real photo uploads end to end', { skip: !HAVE_TESTDATA && 'no shared test data' }, async () => {
  const r = await svc.upload(alice, testImage('photo_3mb.jpg'), { title: 'Elephants' }, 'photo_3mb.jpg');
  assert.equal(r.status, 201);
  assert.deepEqual([r.json.width, r.json.height], [3264, 2448]);
});
