// Optimistic locking under contention, concurrent uploads, kill -9 durability, graceful SIGTERM.
import { test } from 'node:test';
import net from 'node:net';
import assert from 'node:assert/strict';
import { Service, HAVE_TESTDATA, testImage } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

test('10 concurrent PATCHes of one version: exactly one wins', async () => {
  const svc = await new Service().start();
  try {
    const t = svc.token('alice');
    const img = (await svc.upload(t, makePng(200, 150))).json;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      svc.req('PATCH', `/images/${img.id}`, { token: t, body: { title: `writer ${i}`, version: 1 } })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, ...Array(9).fill(409)]);
    for (const r of results.filter((x) => x.status === 409)) {
      assert.equal(r.json.code, 'VERSION_MISMATCH');
      assert.equal(r.json.currentVersion, 2);
    }
    const now = (await svc.req('GET', `/images/${img.id}`, { token: t })).json;
    assert.equal(now.version, 2);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

test('30 concurrent uploads all succeed', async () => {
  const svc = await new Service().start();
  try {
    const t = svc.token('alice');
    const photo = HAVE_TESTDATA ? testImage('photo_3mb.jpg') : null;
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      svc.upload(t, photo && i % 5 === 0 ? photo : makePng(300, 200, { seed: i }))));
    assert.deepEqual(results.map((r) => r.status), Array(30).fill(201), JSON.stringify(results.find((r) => r.status !== 201)?.json));
    assert.equal(new Set(results.map((r) => r.json.id)).size, 30);
    assert.equal((await svc.req('GET', '/images', { token: t })).json.totalCount, 30);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

test('kill -9 during uploads: every 201 is fully retrievable after restart', async () => {
  const svc = await new Service().start();
  const t = svc.token('alice');
  const acknowledged = [];
  let stop = false;
  const workers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      try {
        const r = await svc.upload(t, makePng(400, 300, { seed: w * 1000 + i }));
        if (r.status === 201) acknowledged.push(r.json);
      } catch { return; /* connection dropped by the kill */ }
    }
  });
  // Let some uploads complete, then kill while others are in flight.
  while (acknowledged.length < 12) await new Promise((r) => setImmediate(r));
  svc.proc.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await svc.exited;
  const again = new Service({ JWT_SECRET: svc.secret }, svc.dataDir);
  await again.start();
  try {
    assert.ok(acknowledged.length >= 12);
    for (const img of acknowledged) {
      const meta = await again.req('GET', `/images/${img.id}`, { token: t });
      assert.equal(meta.status, 200, img.id);
      const main = await fetch(`${again.base}/files/${img.s3Key}`);
      const body = Buffer.from(await main.arrayBuffer());
      assert.equal(main.status, 200);
      assert.equal(body.length, img.processedSize);
      assert.equal((await fetch(`${again.base}/files/${img.thumbnailKey}`)).status, 200);
    }
    const list = await again.req('GET', '/images?limit=100', { token: t });
    assert.ok(list.json.totalCount >= acknowledged.length);
  } finally {
    assert.equal((await again.stop()).code, 0);
    (await import('node:fs')).rmSync(svc.dataDir, { recursive: true, force: true });
  }
});

test('SIGTERM lets an in-flight upload finish and exits 0', async () => {
  const svc = await new Service().start();
  const t = svc.token('alice');
  const png = makePng(1600, 1200, { seed: 77 });
  const boundary = 'sigtermboundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`),
    png, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const sock = net.connect(svc.port, '127.0.0.1');
  let received = '';
  const gotContinue = new Promise((resolve) => sock.on('data', (d) => {
    received += d;
    if (received.includes('100 Continue')) resolve();
  }));
  // A reset fails the test with what was received so far (not as an uncaught exception).
  let sockError = null;
  const closed = new Promise((resolve) => {
    sock.on('end', resolve);
    sock.on('error', (e) => { sockError = e; resolve(); });
  });
  const failed = closed.then(() => { throw new Error(`connection ${sockError?.code ?? 'closed'} before 100 Continue; got: ${received.slice(0, 300)}`); });
  sock.write(`POST /images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t}\r\n` +
    `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n` +
    'Expect: 100-continue\r\n\r\n');
  await Promise.race([gotContinue, failed]);  // the server is reading this request's body
  svc.proc.kill('SIGTERM');
  sock.write(body);
  await closed;
  failed.catch(() => {});
  assert.equal(sockError, null, `${sockError?.code} after ${received.slice(0, 300)}`);
  const final = received.slice(received.indexOf('\r\n\r\n') + 4);
  assert.match(final, /^HTTP\/1\.1 201/, received.slice(0, 300));
  assert.match(final, /Connection: close/i);
  const exit = await svc.exited;
  assert.equal(exit.code, 0);
  (await import('node:fs')).rmSync(svc.dataDir, { recursive: true, force: true });
});

test('a full processing queue answers 503 with Retry-After instead of queueing', async () => {
  const svc = await new Service({ PROCESSING_THREADS: '1', PROCESSING_QUEUE: '0' }).start();
  try {
    const t = svc.token('alice');
    const big = makePng(2400, 1800, { seed: 9 });
    const results = await Promise.all(Array.from({ length: 4 }, () => svc.upload(t, big)));
    const statuses = results.map((r) => r.status);
    assert.ok(statuses.includes(201), String(statuses));
    const refused = results.filter((r) => r.status === 503);
    assert.ok(refused.length >= 1, String(statuses));
    for (const r of refused) {
      assert.equal(r.json.code, 'SERVICE_UNAVAILABLE');
      assert.equal(r.headers.get('retry-after'), '2');
    }
    assert.deepEqual(statuses.filter((s) => s !== 201 && s !== 503), []);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});
