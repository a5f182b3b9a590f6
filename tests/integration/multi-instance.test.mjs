// Distributed mode across instances (sharing DynamoDB, S3 and the Redis cache) and through
// backend faults. This file starts its own
// dynalite (persistent, so it can be stopped and started again) and s3rver, so its faults never
// disturb the rest of the suite; it runs in the embedded pass only (it is distributed by itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { startEngine, startRedis, startTcpProxy } from './lib/engines.mjs';
import { makePng } from './lib/png.mjs';

const skip = DISTRIBUTED ? 'runs in the embedded pass, with engines of its own' : false;
let dyn, s3, redis, proxy, dynDir, s3Dir, a, b, token, env;

before(async () => {
  if (skip) return;
  dynDir = mkdtempSync(path.join(tmpdir(), 'isvc-dyn-'));
  s3Dir = mkdtempSync(path.join(tmpdir(), 'isvc-s3-'));
  dyn = await startEngine('dynalite', [dynDir]);
  s3 = await startEngine('s3rver', [s3Dir]);
  redis = await startRedis();
  assert.ok(redis, 'redis-server is required (scripts/install-deps.sh installs it)');
  proxy = await startTcpProxy(redis.port);  // the instances reach Redis through it
  env = {
    // No breaker pause after a Redis failure: the cache is tried again at once, so the test sees
    // what a recovered Redis holds.
    REDIS_ENDPOINT: proxy.endpoint, REDIS_BREAKER_MS: '0',
    METADATA_BACKEND: 'dynamodb', OBJECT_BACKEND: 's3', DYNAMODB_ENDPOINT: dyn.endpoint,
    DYNAMODB_TABLE_NAME: 'multi', S3_ENDPOINT: s3.endpoint, S3_BUCKET_NAME: 'multi',
    S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_MAX_ATTEMPTS: '2',
  };
  a = await new Service(env).start();
  b = await new Service({ ...env, JWT_SECRET: a.secret }).start();
  token = a.token('multi-user');
});

after(async () => {
  if (skip) return;
  for (const s of [a, b]) if (s) assert.equal((await s.stop()).code, 0);
  await dyn?.stop();
  await s3?.stop();
  await proxy?.stop();
  await redis?.stop();
  rmSync(dynDir, { recursive: true, force: true });
  rmSync(s3Dir, { recursive: true, force: true });
});

// Objects s3rver holds for the bucket, read from its data directory.
function storedObjects() {
  const out = [];
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('._S3rver_object')) out.push(path.relative(path.join(s3Dir, 'multi'), p));
    }
  };
  walk(path.join(s3Dir, 'multi'));
  return out.sort();
}

test('an image uploaded through one instance is read, listed, edited and deleted through the other', { skip }, async () => {
  const up = await a.upload(token, makePng(300, 200, { seed: 7 }), { title: 'first' });
  assert.equal(up.status, 201);
  const id = up.json.id;
  let r = await b.req('GET', `/images/${id}`, { token });
  assert.equal(r.status, 200);
  assert.equal(r.json.title, 'first');
  assert.equal(r.json.s3Bucket, 'multi');
  r = await b.req('GET', '/images', { token });
  assert.deepEqual(r.json.images.map((i) => i.id), [id]);
  assert.equal(r.json.totalCount, 1);

  // A PATCH on A is visible on B at once, and a stale version on B is refused.
  r = await a.req('PATCH', `/images/${id}`, { token, body: { title: 'second', version: 1 } });
  assert.equal(r.status, 200);
  assert.equal(r.json.version, 2);
  r = await b.req('GET', `/images/${id}`, { token });
  assert.equal(r.json.title, 'second');
  assert.equal(r.json.version, 2);
  r = await b.req('PATCH', `/images/${id}`, { token, body: { title: 'stale', version: 1 } });
  assert.equal(r.status, 409);
  assert.equal(r.json.code, 'VERSION_MISMATCH');
  assert.equal(r.json.currentVersion, 2);

  // Both instances deliver the bytes; a delete on B removes them from the store. (A's in-memory
  // file cache may keep serving bytes it already holds, like any CDN edge until the purge.)
  const file = await fetch(`${a.base}/files/${up.json.s3Key}`);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('content-type'), 'image/webp');
  r = await b.req('DELETE', `/images/${id}`, { token });
  assert.equal(r.status, 204);
  r = await a.req('GET', `/images/${id}`, { token });
  assert.equal(r.status, 404);
  assert.equal((await fetch(`${b.base}/files/${up.json.s3Key}`)).status, 404);
  assert.equal((await fetch(`${b.base}/files/${up.json.thumbnailKey}`)).status, 404);
  assert.equal((await a.req('GET', '/images', { token })).json.totalCount, 0);
});

test('optimistic locking holds across instances under concurrent edits', { skip }, async () => {
  const up = await a.upload(token, makePng(200, 150, { seed: 9 }));
  const id = up.json.id;
  const edits = await Promise.all([a, b, a, b, a, b].map((s, i) =>
    s.req('PATCH', `/images/${id}`, { token, body: { title: `writer ${i}`, version: 1 } })));
  assert.deepEqual(edits.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409]);
  const winner = edits.find((r) => r.status === 200).json.title;
  assert.equal((await b.req('GET', `/images/${id}`, { token })).json.title, winner);
  assert.equal((await a.req('DELETE', `/images/${id}`, { token })).status, 204);
});

test('DynamoDB down: 503 with Retry-After, health says so, nothing half-written; back up: recovers', { skip }, async () => {
  const kept = await a.upload(token, makePng(200, 150, { seed: 1 }));
  assert.equal(kept.status, 201);
  const before = storedObjects();
  assert.equal(before.length, 2);

  await dyn.stop();
  let r = await a.upload(token, makePng(200, 150, { seed: 2 }));
  assert.equal(r.status, 503, JSON.stringify(r.json));
  assert.equal(r.json.code, 'SERVICE_UNAVAILABLE');
  assert.equal(r.headers.get('retry-after'), '1');
  r = await b.req('GET', `/images/${kept.json.id}`, { token });
  assert.equal(r.status, 503);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  r = await a.req('GET', '/health');
  assert.equal(r.status, 503);
  assert.equal(r.json.status, 'unhealthy');
  assert.equal(r.json.services.dynamodb, 'down');
  assert.equal(r.json.services.s3, 'up');
  // The failed upload's objects were taken back out.
  assert.deepEqual(storedObjects(), before);

  dyn = await dyn.restart();
  r = await b.req('GET', `/images/${kept.json.id}`, { token });
  assert.equal(r.status, 200);
  r = await a.req('GET', '/images', { token });
  assert.deepEqual(r.json.images.map((i) => i.id), [kept.json.id]);
  assert.equal(r.json.totalCount, 1);
  assert.equal((await a.req('GET', '/health')).json.status, 'healthy');
  assert.equal((await a.req('DELETE', `/images/${kept.json.id}`, { token })).status, 204);
});

test('S3 down: uploads and file reads get 503, metadata stays clean; back up: recovers', { skip }, async () => {
  const kept = await a.upload(token, makePng(200, 150, { seed: 3 }));
  assert.equal(kept.status, 201);
  await s3.stop();
  let r = await a.upload(token, makePng(200, 150, { seed: 4 }));
  assert.equal(r.status, 503, JSON.stringify(r.json));
  assert.equal(r.json.code, 'SERVICE_UNAVAILABLE');
  assert.ok(r.headers.get('retry-after'));
  const file = await fetch(`${b.base}/files/${kept.json.s3Key}`);
  assert.equal(file.status, 503);
  r = await b.req('GET', '/health');
  assert.equal(r.json.services.s3, 'down');
  r = await b.req('GET', '/images', { token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.images.map((i) => i.id), [kept.json.id]);

  s3 = await s3.restart();
  assert.equal((await fetch(`${b.base}/files/${kept.json.s3Key}`)).status, 200);
  r = await a.upload(token, makePng(200, 150, { seed: 5 }));
  assert.equal(r.status, 201);
  assert.equal((await a.req('GET', '/images', { token })).json.totalCount, 2);
});

// One use of Redis as /metrics reports it: commands by outcome and the last command's outcome.
async function redisUse(svc, use) {
  const text = await (await fetch(`${svc.base}/metrics`, { headers: { accept: 'text/plain' } })).text();
  const value = (name, labels) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  const count = (result) => value('isvc_redis_commands_total', `use="${use}",result="${result}"`);
  return { ok: count('ok'), failed: count('failed'), lastOk: value('isvc_redis_last_command_ok', `use="${use}"`) };
}

test('Redis down: still serving and degraded; after a partition no stale entry is served', { skip }, async () => {
  const up = await a.upload(token, makePng(200, 150, { seed: 6 }), { title: 'v1' });
  const id = up.json.id;
  // Both instances have read it, so Redis holds the record and the list page.
  for (const s of [a, b, a, b]) assert.equal((await s.req('GET', `/images/${id}`, { token })).json.title, 'v1');
  assert.equal((await b.req('GET', '/images', { token })).json.images[0].title, 'v1');

  proxy.cut();  // unreachable, but Redis keeps the cached v1
  let r = await a.req('PATCH', `/images/${id}`, { token, body: { title: 'v2', version: 1 } });
  assert.equal(r.status, 200);
  r = await b.req('GET', `/images/${id}`, { token });
  assert.equal(r.status, 200);
  assert.equal(r.json.title, 'v2');
  r = await a.req('GET', '/health');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'degraded');
  assert.equal(r.json.services.redis, 'down');
  // The cache's own outcome, apart from the health ping's.
  let m = await redisUse(a, 'metadata');
  assert.ok(m.failed >= 1, JSON.stringify(m));
  assert.equal(m.lastOk, 0);
  proxy.restore();

  // The write-through of v2 was lost, yet neither instance serves the cached v1.
  for (const s of [b, a, b]) {
    assert.equal((await s.req('GET', `/images/${id}`, { token })).json.title, 'v2');
    assert.equal((await s.req('GET', '/images', { token })).json.images.find((i) => i.id === id).title, 'v2');
  }
  assert.equal((await a.req('GET', '/health')).json.status, 'healthy');
  m = await redisUse(a, 'metadata');
  assert.equal(m.lastOk, 1);
  assert.ok(m.ok >= 1, JSON.stringify(m));

  await redis.stop();
  r = await b.req('PATCH', `/images/${id}`, { token, body: { title: 'v3', version: 2 } });
  assert.equal(r.status, 200);
  assert.equal((await a.req('GET', `/images/${id}`, { token })).json.title, 'v3');
  assert.equal((await b.req('GET', '/health')).json.status, 'degraded');
  redis = await redis.restart();
  assert.equal((await b.req('GET', '/health')).json.status, 'healthy');
  assert.equal((await a.req('GET', `/images/${id}`, { token })).json.title, 'v3');
  assert.equal((await a.req('DELETE', `/images/${id}`, { token })).status, 204);
  assert.equal((await b.req('GET', `/images/${id}`, { token })).status, 404);
});
