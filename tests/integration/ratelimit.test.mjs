// Per-user rate limits (SPEC §4, §12): X-RateLimit-* on every limited response, 429 with
// Retry-After and retryAfter past the limit, per user and per class, service imports exempt,
// switchable. Across two instances the limit is shared through Redis in the distributed pass and
// per instance in the embedded pass (no Redis).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

const LIMITS = {
  RATE_LIMITS_ENABLED: 'true', RATE_LIMIT_UPLOADS_PER_MINUTE: '3', RATE_LIMIT_UPDATES_PER_MINUTE: '2',
  RATE_LIMIT_DELETES_PER_MINUTE: '50', RATE_LIMIT_READS_PER_SECOND: '1000',
};
const png = makePng(120, 120);
let dir, a, b;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isvc-rl-'));
  a = await new Service(LIMITS, dir).start();
  b = await new Service({ ...LIMITS, JWT_SECRET: a.secret }, dir).start();
});
after(async () => {
  for (const s of [a, b]) if (s) assert.equal((await s.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

const limitHeaders = (r) => ['limit', 'remaining', 'reset'].map((k) => r.headers.get(`x-ratelimit-${k}`));

test('uploads: the limit passes, then 429 with Retry-After, retryAfter and Remaining 0; other users are unaffected', async () => {
  const token = a.token('rl-uploader');
  const t0 = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 3; i++) {
    const r = await a.upload(token, png);
    assert.equal(r.status, 201);
    // The window's end is stated from when the service answered, which may be seconds after t0
    // on a loaded machine (distributed mode).
    const answered = Math.ceil(Date.now() / 1000);
    const [limit, remaining, reset] = limitHeaders(r);
    assert.equal(limit, '3');
    assert.equal(remaining, String(2 - i));
    assert.ok(Number(reset) >= t0 + 1 && Number(reset) <= answered + 61, `reset ${reset}, t0 ${t0}, answered ${answered}, upload ${i}, remaining ${remaining}`);
  }
  const refused = await a.upload(token, png);
  assert.equal(refused.status, 429);
  assert.equal(refused.json.code, 'RATE_LIMIT_EXCEEDED');
  assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
  const retry = Number(refused.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 20, String(retry));  // one upload per 20 s refills
  assert.equal(refused.json.retryAfter, retry);
  assert.equal(refused.json.requestId, refused.headers.get('x-request-id'));
  // Starting a direct upload is an upload too.
  const start = await a.req('POST', '/images/uploads', { token, body: { filename: 'a.png', contentType: 'image/png', size: png.length } });
  assert.equal(start.status, 429);
  // Someone else uploads freely; reads have their own limit.
  assert.equal((await a.upload(a.token('rl-other'), png)).status, 201);
  const list = await a.req('GET', '/images', { token });
  assert.equal(list.status, 200);
  assert.deepEqual(limitHeaders(list).slice(0, 1), ['1000']);
});

test('updates have their own limit; no token → 401 without limit headers; the service import is not limited', async () => {
  const token = a.token('rl-editor');
  const img = (await a.upload(token, png)).json;
  let version = img.version;
  for (let i = 0; i < 2; i++) {
    const r = await a.req('PATCH', `/images/${img.id}`, { token, body: { title: `t${i}`, version } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ratelimit-limit'), '2');
    version = r.json.version;
  }
  const r = await a.req('PATCH', `/images/${img.id}`, { token, body: { title: 'late', version } });
  assert.equal(r.status, 429);
  assert.equal((await a.req('GET', `/images/${img.id}`, { token })).json.title, 't1');

  const anon = await a.req('GET', '/images');
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('x-ratelimit-limit'), null);

  const service = a.token('legacy-api', 'service');
  for (let i = 0; i < 5; i++) {
    const id = `6f1c2d3e-0000-4000-8000-00000000000${i}`;
    const res = await a.req('POST', '/images', { token: service, body: {
      id, userId: 'rl-legacy', s3Key: `gallery/${i}.jpg`, originalFilename: `${i}.jpg`, mimeType: 'image/jpeg',
      fileSize: 10, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' } });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal(res.headers.get('x-ratelimit-limit'), null);
  }
});

test(DISTRIBUTED ? 'two instances share the limit through Redis' : 'without Redis each instance limits on its own',
  async () => {
    const token = a.token('rl-two-instances');
    for (let i = 0; i < 2; i++) assert.equal((await a.upload(token, png)).status, 201);
    const onB = await b.upload(token, png);
    assert.equal(onB.status, 201);
    assert.equal(onB.headers.get('x-ratelimit-remaining'), DISTRIBUTED ? '0' : '2');
    assert.equal((await b.upload(token, png)).status, DISTRIBUTED ? 429 : 201);
    if (!DISTRIBUTED) assert.equal((await a.upload(token, png)).status, 201);  // a's third
    assert.equal((await a.upload(token, png)).status, 429);
  });

test('RATE_LIMITS_ENABLED=false: no limits and no headers', async () => {
  const off = await new Service({ ...LIMITS, RATE_LIMITS_ENABLED: 'false' }).start();
  try {
    const token = off.token('rl-free');
    for (let i = 0; i < 5; i++) {
      const r = await off.upload(token, png);
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('x-ratelimit-limit'), null);
    }
  } finally {
    assert.equal((await off.stop()).code, 0);
  }
});
