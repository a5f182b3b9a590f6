// The webhook outbox of one target spread over partitions (docs/webhooks.md, "Delivery
// guarantees"): in distributed mode each image's events go to one of 8 partitions chosen by its
// id; the events of many images, written concurrently while the receiver is down (a backlog in
// every partition), still arrive once each and in order per image once it is back; an event left
// in the unsharded partition of an earlier build is delivered first among its image's. The
// embedded pass runs the same traffic through the SQLite outbox.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { outboxItems, plantUnshardedEvent } from './lib/store.mjs';

const tools = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tools');
const { Webhook } = createRequire(path.join(tools, 'package.json'))('standardwebhooks');

async function until(check, what, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `not within ${ms} ms: ${typeof what === 'function' ? what() : what}` });
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The partition an image's events go to, as docs/webhooks.md states it: FNV-1a (32 bits) of the
// image id, modulo 8. Computed here independently of the service, to show the test's images
// really cover several partitions.
function outboxShard(key) {
  let h = 2166136261;
  for (const c of Buffer.from(key)) h = Math.imul(h ^ c, 16777619) >>> 0;
  return h % 8;
}

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const verifier = new Webhook(secret);
const events = [];
const bad = [];
let server;
let port = 0;
async function openReceiver() {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        events.push(verifier.verify(Buffer.concat(chunks).toString(), req.headers));
        res.writeHead(204).end();
      } catch (e) {
        bad.push(String(e));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  port = server.address().port;
}
async function closeReceiver() {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

let svc;
after(async () => {
  if (svc) await svc.stop();
  if (server?.listening) await closeReceiver();
});

test('events of 24 images over several outbox partitions arrive once each, in order per image', async () => {
  await openReceiver();
  await closeReceiver();  // the port is known; nothing listens until the backlog is built
  svc = await new Service({
    WEBHOOK_URLS: `http://127.0.0.1:${port}/hook`, WEBHOOK_SECRETS: secret,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_INITIAL_MS: '50', WEBHOOK_RETRY_MAX_MS: '200', WEBHOOK_POLL_MS: '50',
    WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_CONNECT_TIMEOUT_MS: '500',
  }).start();
  const token = svc.token('hooks-shards');
  const images = [];
  for (let i = 0; i < 24; i++) {
    const r = await svc.upload(token, makePng(160 + i, 120, { seed: i }));
    assert.equal(r.status, 201, JSON.stringify(r.json));
    images.push(r.json);
  }
  const shards = new Set(images.map((im) => outboxShard(im.id)));
  assert.ok(shards.size >= 5, `24 ids cover ${shards.size} of 8 partitions`);
  // Three PATCHes per image, the images concurrently (each image's own in sequence), then every
  // fourth image deleted.
  const expected = new Map(images.map((im) => [im.id, ['image.created:1']]));
  await Promise.all(images.map(async (im, n) => {
    let version = im.version;
    for (let round = 0; round < 3; round++) {
      const r = await svc.req('PATCH', `/images/${im.id}`, { token, body: { version, title: `r${round}` } });
      assert.equal(r.status, 200);
      version = r.json.version;
      expected.get(im.id).push(`image.updated:${version}`);
    }
    if (n % 4 === 0) {
      assert.equal((await svc.req('DELETE', `/images/${im.id}`, { token })).status, 204);
      expected.get(im.id).push('image.deleted');
    }
  }));
  let total = [...expected.values()].reduce((n, l) => n + l.length, 0);
  assert.equal(total, 24 * 4 + 6);
  if (DISTRIBUTED) {
    // Every waiting event sits in the partition of its image, and they use several partitions.
    const url = `http://127.0.0.1:${port}/hook`;
    const target = createHash('sha256').update(url).digest('hex').slice(0, 16);
    const items = await outboxItems(svc);
    assert.equal(items.length, total);
    for (const it of items) {
      assert.equal(it.pk, `WHK#${target}#0${outboxShard(it.orderKey)}`, JSON.stringify(it));
    }
    assert.ok(new Set(items.map((it) => it.pk)).size >= 5);
    // An event an earlier build left in the target's one unsharded partition, older than every
    // event of image 1: it arrives, and first among that image's.
    const im = images[1];
    await plantUnshardedEvent(svc, target, {
      id: 'msg_01J00000000000000000000000', type: 'image.updated', orderKey: im.id, seq: 0, createdMs: Date.now(),
      body: JSON.stringify({ type: 'image.updated', timestamp: new Date().toISOString(), data: { id: im.id, version: 0 } }),
    });
    expected.get(im.id).unshift('image.updated:0');
    total += 1;
    // Tried (and failed) once: the worker has claimed since it was written, so no claim from
    // before it, which might hold the image's next event, is still to be attempted.
    await until(async () => (await outboxItems(svc)).find((it) => it.id === 'msg_01J00000000000000000000000')?.attempts >= 1,
      'the unsharded event attempted');
  }
  await openReceiver();
  await until(() => events.length >= total, () => `${total} events (got ${events.length})`);
  assert.deepEqual(bad, []);
  for (const [id, want] of expected) {
    const got = events.filter((e) => e.data.id === id)
      .map((e) => (e.type === 'image.deleted' ? e.type : `${e.type}:${e.data.version}`));
    assert.deepEqual(got, want, `events of ${id} (partition ${outboxShard(id)}) once each, in order`);
  }
  assert.equal(events.length, total, 'nothing twice');
});
