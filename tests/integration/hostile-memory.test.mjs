// Memory pinning (issue 11 parts 1–2): a request is judged on its head, so bodies that will be
// refused are never held, and admitted upload bodies are bounded by UPLOAD_MEMORY_BUDGET.
// RSS is read from /proc while the attack runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { connect, metric, rssMb, sampleRss } from './lib/raw.mjs';

const BODY = 10_400_000;  // just under MAX_FILE_SIZE + 1 MiB of multipart framing
const BUDGET = 256 * 1024 * 1024;  // the default UPLOAD_MEMORY_BUDGET
let svc, token;
before(async () => {
  svc = await new Service({ STAGE: 'production', RATE_LIMITS_ENABLED: 'false' }).start();
  token = svc.token('mem-user');
  // Warm up (first upload maps libvips, the SQLite cache, …) so growth is the attack's.
  assert.equal((await svc.upload(token, makePng(120, 120))).status, 201);
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

const uploadHead = (auth) =>
  `POST /images HTTP/1.1\r\nHost: x\r\n${auth ? `Authorization: Bearer ${auth}\r\n` : ''}` +
  `Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: ${BODY}\r\n\r\n`;

// Writes `bytes` of body in 1 MiB chunks, as fast as the socket takes them, stopping when the
// server closes.
async function sendBody(c, bytes) {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let sent = 0; sent < bytes && !c.closed;) {
    const n = Math.min(chunk.length, bytes - sent);
    if (!(await c.write(n === chunk.length ? chunk : chunk.subarray(0, n)))) break;
    sent += n;
  }
}

test('40 unauthenticated 10 MB uploads: 401 within 1 s of the headers, RSS growth < 50 MB', async () => {
  const before = rssMb(svc.proc.pid);
  const rss = sampleRss(svc.proc.pid);
  const results = await Promise.all(Array.from({ length: 40 }, async () => {
    const c = await connect(svc.port);
    const t0 = Date.now();
    await c.write(uploadHead(null));
    const sending = sendBody(c, BODY);
    const r = await c.response(1, 5000);
    const ms = Date.now() - t0;
    await sending;
    c.destroy();
    return { status: r?.status, code: r && JSON.parse(r.body).code, ms };
  }));
  const peak = rss.stop();
  for (const r of results) {
    assert.equal(r.status, 401);
    assert.equal(r.code, 'UNAUTHORIZED');
    assert.ok(r.ms < 1000, `401 after ${r.ms} ms`);
  }
  console.log(`40 unauthenticated: slowest 401 after ${Math.max(...results.map((r) => r.ms))} ms, RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB`);
  assert.ok(peak - before < 50, `RSS grew ${(peak - before).toFixed(0)} MB`);
});

test('100 authenticated uploads stalled half-way: the budget admits what fits, the rest 503 at once; RSS growth < 300 MB', async () => {
  const admittedExpected = Math.floor(BUDGET / BODY);  // 25 with the defaults
  const before = rssMb(svc.proc.pid);
  const rss = sampleRss(svc.proc.pid);
  const conns = [];
  try {
    for (let i = 0; i < 100; i++) {
      const c = await connect(svc.port);
      await c.write(uploadHead(token));
      conns.push(c);
    }
    // The refused ones are answered from their head; the admitted ones wait for their bodies.
    await Promise.all(conns.map((c) => sendBody(c, BODY / 2)));
    const deadline = Date.now() + 10000;
    while (conns.filter((c) => c.responses().length).length < 100 - admittedExpected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const refused = conns.filter((c) => c.responses().length);
    assert.equal(refused.length, 100 - admittedExpected);
    for (const c of refused) {
      const r = c.responses()[0];
      assert.equal(r.status, 503);
      assert.equal(JSON.parse(r.body).code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    assert.equal(await metric(svc.base, 'isvc_upload_slots_in_use'), admittedExpected);
    assert.equal(await metric(svc.base, 'isvc_body_memory_bytes'), admittedExpected * BODY);
    // While the budget is full, other requests are still served.
    assert.equal((await svc.req('GET', '/images?limit=1', { token })).status, 200);
    const peak = rss.stop();
    console.log(`100 stalled: ${admittedExpected} admitted, ${refused.length} × 503; RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB`);
    assert.ok(peak - before < 300, `RSS grew ${(peak - before).toFixed(0)} MB`);
  } finally {
    for (const c of conns) c.destroy();
  }
  // Closed connections give their reservations back.
  const deadline = Date.now() + 10000;
  while (await metric(svc.base, 'isvc_body_memory_bytes') > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(await metric(svc.base, 'isvc_body_memory_bytes'), 0);
  assert.equal(await metric(svc.base, 'isvc_upload_slots_in_use'), 0);
  assert.equal((await svc.upload(token, makePng(120, 120))).status, 201);
});

test('a smaller UPLOAD_MEMORY_BUDGET admits fewer: two 6 MB bodies fit in 13 MiB, the third is 503', async () => {
  const small = await new Service({ UPLOAD_MEMORY_BUDGET: String(13 * 1024 * 1024), MAX_FILE_SIZE: String(10 * 1024 * 1024) }).start();
  const conns = [];
  try {
    const t = small.token('budget-user');
    for (let i = 0; i < 3; i++) {
      const c = await connect(small.port);
      await c.write(`POST /images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t}\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 6000000\r\n\r\n`);
      conns.push(c);
    }
    // Heads are judged concurrently: any one of the three may be the one that does not fit.
    const answered = () => conns.filter((c) => c.responses().length);
    const deadline = Date.now() + 5000;
    while (answered().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(answered().length, 1);
    assert.equal(answered()[0].responses()[0].status, 503);
    assert.equal(await metric(small.base, 'isvc_body_memory_bytes'), 12_000_000);
    assert.equal(answered().length, 1);
  } finally {
    for (const c of conns) c.destroy();
    assert.equal((await small.stop()).code, 0);
  }
});
