// GET /files delivery paths, byte for byte: the hot cache's shared bytes, the store's open object
// with the cache off (a file: sendfile(2); under TLS and from S3: bounded pieces), and an object
// larger than the cache admits. Full, ranged, HEAD and 304 answers carry exactly the stored bytes;
// a client that stops reading a large object is cut at WRITE_TIMEOUT_S without holding a worker
// thread or the object in memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { BIN, DISTRIBUTED, Service } from './lib/server.mjs';
import { putObject, removeObject } from './lib/store.mjs';
import { connect, metric, rssMb, sampleRss } from './lib/raw.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const SMALL = randomBytes(300 * 1024);
const BIG = randomBytes(40 * 1024 * 1024);  // beyond the cache's 16 MiB per-object limit
const SMALL_KEY = 'images/alice/01HZZZZZZZZZZZZZZZZZZZSMAL.webp';
const BIG_KEY = 'images/alice/01HZZZZZZZZZZZZZZZZZZZZBIG.webp';

let hot, cold, slow;
before(async () => {
  hot = await new Service().start();
  cold = await new Service({ FILE_CACHE_BYTES: '0' }).start();
  // For the stalled readers: a 2 s deadline (it also bounds a whole S3 stream, so not on `cold`).
  // Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) before it is
  // reused, which the RSS bound below would count: this service gets a small one.
  const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:quarantine_size_mb=4` : 'quarantine_size_mb=4';
  slow = await new Service({ FILE_CACHE_BYTES: '0', WRITE_TIMEOUT_S: '2', WORKER_THREADS: '4', ASAN_OPTIONS: asan }).start();
  for (const svc of [hot, cold, slow]) {
    await putObject(svc, SMALL_KEY, SMALL, 'image/webp');
    await putObject(svc, BIG_KEY, BIG, 'image/webp');
  }
});
after(async () => {
  for (const svc of [hot, cold, slow]) if (svc) assert.equal((await svc.stop()).code, 0);
});

async function get(svc, key, headers = {}, method = 'GET') {
  const r = await fetch(`${svc.base}/files/${key}`, { method, headers });
  return { status: r.status, headers: r.headers, buf: Buffer.from(await r.arrayBuffer()) };
}

async function checkObject(svc, key, bytes) {
  const n = bytes.length;
  const full = await get(svc, key);
  assert.equal(full.status, 200);
  assert.equal(Number(full.headers.get('content-length')), n);
  assert.equal(full.headers.get('content-type'), 'image/webp');
  assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(sha(full.buf), sha(bytes));
  const etag = full.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);

  const mid = await get(svc, key, { range: `bytes=1000-${n - 1001}` });
  assert.equal(mid.status, 206);
  assert.equal(mid.headers.get('content-range'), `bytes 1000-${n - 1001}/${n}`);
  assert.equal(sha(mid.buf), sha(bytes.subarray(1000, n - 1000)));
  const suffix = await get(svc, key, { range: 'bytes=-4097' });
  assert.equal(suffix.status, 206);
  assert.equal(sha(suffix.buf), sha(bytes.subarray(n - 4097)));
  const multi = await get(svc, key, { range: 'bytes=0-1,5-6' });  // as before: the whole object
  assert.equal(multi.status, 200);
  assert.equal(sha(multi.buf), sha(bytes));
  const past = await get(svc, key, { range: `bytes=${n}-` });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${n}`);

  const head = await get(svc, key, {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), n);
  assert.equal(head.buf.length, 0);
  assert.equal(head.headers.get('etag'), etag);
  const headRange = await get(svc, key, { range: 'bytes=0-9' }, 'HEAD');
  assert.equal(headRange.status, 206);
  assert.equal(Number(headRange.headers.get('content-length')), 10);

  const nm = await get(svc, key, { 'if-none-match': etag });
  assert.equal(nm.status, 304);
  assert.equal(nm.buf.length, 0);
  assert.equal(nm.headers.get('etag'), etag);
  // A stale If-Range: the whole object, not the range.
  const ifRange = await get(svc, key, { range: 'bytes=0-9', 'if-range': '"stale"' });
  assert.equal(ifRange.status, 200);
  assert.equal(sha(ifRange.buf), sha(bytes));
}

test('hot cache: a cached object is delivered byte-exact (full, ranges, HEAD, 304) from the cache', async () => {
  await get(hot, SMALL_KEY);  // the miss that fills the cache
  const hits0 = await metric(hot.base, 'isvc_cache_requests_total', 'layer="file",result="hit"');
  await checkObject(hot, SMALL_KEY, SMALL);
  const hits1 = await metric(hot.base, 'isvc_cache_requests_total', 'layer="file",result="hit"');
  assert.equal(hits1 - hits0, 9);  // every request of checkObject
});

test('hot cache: an object above its per-object limit is streamed byte-exact and never cached', async () => {
  const miss0 = await metric(hot.base, 'isvc_cache_requests_total', 'layer="file",result="miss"');
  await checkObject(hot, BIG_KEY, BIG);
  const miss1 = await metric(hot.base, 'isvc_cache_requests_total', 'layer="file",result="miss"');
  assert.equal(miss1 - miss0, 9);
});

test('cache off: every object is read from the store per request, byte-exact', async () => {
  const hits0 = await metric(cold.base, 'isvc_cache_requests_total', 'layer="file",result="hit"');
  await checkObject(cold, SMALL_KEY, SMALL);
  await checkObject(cold, BIG_KEY, BIG);
  assert.equal(await metric(cold.base, 'isvc_cache_requests_total', 'layer="file",result="hit"'), hits0);
});

test('keep-alive: streamed responses follow each other on one connection', async () => {
  const c = await connect(cold.port);
  const req = `GET /files/${SMALL_KEY} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n`;
  await c.write(req + req + `GET /files/${SMALL_KEY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await c.waitClosed(10000);
  const rs = c.responses();
  assert.equal(rs.length, 3);
  assert.deepEqual(rs.map((r) => r.status), [206, 206, 200]);
  assert.equal(sha(Buffer.from(rs[0].body, 'latin1')), sha(SMALL.subarray(0, 100)));
  assert.equal(sha(Buffer.from(rs[2].body, 'latin1')), sha(SMALL));
});

test('slow readers: cut at WRITE_TIMEOUT_S, holding neither a worker thread nor the object in memory', async (t) => {
  const N = 12;  // more stalled readers than the 4 worker threads
  await get(slow, SMALL_KEY);  // the service's pools and buffers in use once before the baseline
  const base = rssMb(slow.proc.pid);
  const rss = sampleRss(slow.proc.pid);
  const conns = [];
  for (let i = 0; i < N; i++) {
    const c = await connect(slow.port);
    c.socket.pause();  // reads nothing: the server's socket buffer fills and stays full
    await c.write(`GET /files/${BIG_KEY} HTTP/1.1\r\nHost: x\r\n\r\n`);
    conns.push(c);
  }
  // While they stall, others are served at once (no worker thread is held by a stalled body).
  const t0 = Date.now();
  const ok = await get(slow, SMALL_KEY);
  assert.equal(ok.status, 200);
  assert.equal(sha(ok.buf), sha(SMALL));
  assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  // Each stalled response is cut at the 2 s deadline: logged as one request of about 2 s.
  const lines = await slow.logLines(
    (j) => j.event === 'http_request' && j.path === `/files/${BIG_KEY}` && j.bodyError,
    { count: N, ms: 15000 });
  for (const j of lines) {
    assert.ok(j.durationMs >= 2000 && j.durationMs < 5000, JSON.stringify(j));
    assert.equal(j.bodyError, 'write_timeout');
  }
  const peak = rss.stop();
  const ms = lines.map((j) => j.durationMs);
  t.diagnostic(`peak RSS ${peak.toFixed(1)} MB (+${(peak - base).toFixed(1)} MB over ${base.toFixed(1)}) with ${N} stalled 40 MiB responses, cut after ${Math.min(...ms)}-${Math.max(...ms)} ms`);
  for (const c of conns) {
    c.socket.resume();
    await c.waitClosed(10000);
    // The connection ended before the announced 40 MiB: the client can tell the body is short.
    assert.ok(c.receivedLength < BIG.length, `${c.receivedLength}`);
    assert.match(c.text().slice(0, 200), /^HTTP\/1\.1 200/);
  }
  // Buffered, these 12 responses would hold 480 MiB; streamed, nothing (sendfile), a 64 KiB
  // buffer (TLS) or a 2 MiB piece (S3) per connection: the growth stays under 64 MB (128 MB in
  // the sanitizer build, whose allocations carry redzones and shadow memory).
  const bound = /asan/.test(BIN) ? 128 : 64;
  assert.ok(peak - base < bound, `peak RSS ${peak} MB over a baseline of ${base} MB`);
});

test('an object deleted while it is sent: S3 stops the stream (connection closed, only true bytes), a file keeps its open copy', async () => {
  const key = 'images/alice/01HZZZZZZZZZZZZZZZZZZZGONE.webp';
  // On the hot-cache instance (60 s write deadline; the object is beyond the cache's limit).
  await putObject(hot, key, BIG, 'image/webp');
  const c = await connect(hot.port);
  await c.write(`GET /files/${key} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await c.until(() => c.received.includes('\r\n\r\n'), 10000, 'the response head');
  c.socket.pause();  // the service can only run ahead by its socket buffers and one piece
  await removeObject(hot, key);
  c.socket.resume();
  const start = c.received.indexOf('\r\n\r\n') + 4;
  await c.until(() => c.closed || c.receivedLength >= start + BIG.length, 30000, 'the end');
  const body = c.received.subarray(start);
  assert.match(c.text().slice(0, 20), /^HTTP\/1\.1 200/);
  if (DISTRIBUTED) {
    await c.waitClosed(10000);
    assert.ok(body.length < BIG.length, `${body.length} bytes`);
    assert.ok(body.equals(BIG.subarray(0, body.length)), 'every byte sent is the object\'s');
    // Cut because the next piece was gone, not by the write deadline.
    await hot.logLines((j) => j.event === 'http_request' && j.path === `/files/${key}` && j.bodyError === 'source_failed');
  } else {
    assert.equal(body.length, BIG.length);
    assert.equal(sha(body), sha(BIG));
    c.destroy();
  }
});
