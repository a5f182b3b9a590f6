// GET/HEAD /files/{key}: immutable caching, strong ETag, 304, single ranges, 416, traversal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

let svc, img, bytes;
before(async () => {
  svc = await new Service().start();
  const r = await svc.upload(svc.token('alice'), makePng(640, 480, { seed: 3 }));
  assert.equal(r.status, 201);
  img = r.json;
  bytes = Buffer.from(await (await fetch(img.imageUrl)).arrayBuffer());
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

const path = () => `/files/${img.s3Key}`;

test('200 with immutable caching headers and a strong ETag', async () => {
  const r = await svc.req('GET', path());
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(r.headers.get('content-type'), 'image/webp');
  assert.equal(Number(r.headers.get('content-length')), bytes.length);
  assert.match(r.headers.get('etag'), /^"[0-9a-f]{32}"$/);
  assert.ok(Date.parse(r.headers.get('last-modified')) > 0);
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.deepEqual(r.buf, bytes);
  const h = await svc.req('HEAD', path());
  assert.equal(h.status, 200);
  assert.equal(h.buf.length, 0);
  assert.equal(Number(h.headers.get('content-length')), bytes.length);
  assert.equal(h.headers.get('etag'), r.headers.get('etag'));
});

test('conditional requests get 304', async () => {
  const first = await svc.req('GET', path());
  const etag = first.headers.get('etag');
  let r = await svc.req('GET', path(), { headers: { 'if-none-match': etag } });
  assert.equal(r.status, 304);
  assert.equal(r.buf.length, 0);
  assert.equal(r.headers.get('etag'), etag);
  r = await svc.req('GET', path(), { headers: { 'if-none-match': `"other", W/${etag}` } });
  assert.equal(r.status, 304);
  r = await svc.req('GET', path(), { headers: { 'if-modified-since': first.headers.get('last-modified') } });
  assert.equal(r.status, 304);
  r = await svc.req('GET', path(), { headers: { 'if-none-match': '"nope"' } });
  assert.equal(r.status, 200);
});

test('single ranges get 206 with exact bytes; unsatisfiable gets 416', async () => {
  const n = bytes.length;
  let r = await svc.req('GET', path(), { headers: { range: 'bytes=0-99' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 0-99/${n}`);
  assert.deepEqual(r.buf, bytes.subarray(0, 100));
  r = await svc.req('GET', path(), { headers: { range: 'bytes=-100' } });
  assert.equal(r.status, 206);
  assert.deepEqual(r.buf, bytes.subarray(n - 100));
  r = await svc.req('GET', path(), { headers: { range: 'bytes=100-' } });
  assert.deepEqual(r.buf, bytes.subarray(100));
  assert.equal(r.headers.get('content-range'), `bytes 100-${n - 1}/${n}`);
  r = await svc.req('GET', path(), { headers: { range: `bytes=${n}-` } });
  assert.equal(r.status, 416);
  assert.equal(r.headers.get('content-range'), `bytes */${n}`);
  assert.equal(r.json.code, 'RANGE_NOT_SATISFIABLE');
  r = await svc.req('GET', path(), { headers: { range: 'bytes=0-1,5-6' } });
  assert.equal(r.status, 200);
});

test('unknown keys are 404 and traversal never escapes the store', async () => {
  assert.equal((await svc.req('GET', '/files/images/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV.webp')).status, 404);
  for (const p of ['/files/../metadata.db', '/files/%2e%2e/metadata.db', '/files/images/..%2f..%2fmetadata.db',
    '/files/images%2f..%2f..%2fdev-jwt-secret', '/files/images/..\\..\\metadata.db', '/files/metadata.db',
    '/files/images/%00', '/files/']) {
    // raw socket: fetch would normalise the dots away before sending
    const reply = await new Promise((resolve, reject) => {
      const s = net.connect(svc.port, '127.0.0.1', () => s.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let d = '';
      s.on('data', (c) => { d += c; });
      s.on('end', () => resolve(d));
      s.on('error', reject);
    });
    const status = Number(reply.slice(9, 12));
    assert.ok(status === 404 || status === 400, `${p} -> ${status}`);
    assert.ok(!reply.includes('SQLite format'), p);
  }
});

test('repeated reads are served from the hot cache', async () => {
  const before = (await svc.req('GET', '/metrics')).json.cacheHitRate;
  for (let i = 0; i < 10; i++) await svc.req('GET', path());
  const afterRate = (await svc.req('GET', '/metrics')).json.cacheHitRate;
  assert.ok(afterRate > before, `${before} -> ${afterRate}`);
});

test('HEAD on a JSON route sends headers only', async () => {
  const reply = await new Promise((resolve, reject) => {
    const s = net.connect(svc.port, '127.0.0.1', () => s.write('HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let d = '';
    s.on('data', (c) => { d += c; });
    s.on('end', () => resolve(d));
    s.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 200/);
  const [head, body] = reply.split('\r\n\r\n');
  assert.ok(Number(/content-length: (\d+)/i.exec(head)[1]) > 0);
  assert.equal(body, '');
});
