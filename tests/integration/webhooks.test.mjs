// Webhooks (docs/webhooks.md): a real receiver (a node http server started here) verifies every
// request with npm standardwebhooks, an implementation independent of ours, and records what
// arrived. Runs in both passes: embedded (SQLite outbox) and distributed (DynamoDB outbox).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

// npm standardwebhooks from tests/tools (the suite's own packages).
const tools = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tools');
const { Webhook } = createRequire(path.join(tools, 'package.json'))('standardwebhooks');

const PROM_ACCEPT = 'text/plain;version=0.0.4';

// Waits until `check()` returns something truthy; fails after `ms` with `what`.
async function until(check, what, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `not within ${ms} ms: ${typeof what === 'function' ? what() : what}` });
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A webhook receiver: every request must carry a valid Standard Webhooks signature (a bad one is
// recorded as a failure and answered 400); stop() closes it (connections refused), start() opens
// it again on the same port.
class Receiver {
  constructor() {
    this.secret = `whsec_${randomBytes(32).toString('base64')}`;
    this.verifier = new Webhook(this.secret);
    this.events = [];  // { id, timestamp, body } in arrival order
    this.bad = [];
    this.port = 0;
  }
  get url() { return `http://127.0.0.1:${this.port}/hook`; }
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const payload = Buffer.concat(chunks).toString();
        try {
          const body = this.verifier.verify(payload, req.headers);
          this.events.push({ id: req.headers['webhook-id'], timestamp: Number(req.headers['webhook-timestamp']), body, raw: payload });
          res.writeHead(204).end();
        } catch (e) {
          this.bad.push({ headers: req.headers, payload, error: String(e) });
          res.writeHead(400).end();
        }
      });
    });
    await new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
  of(imageId) { return this.events.filter((e) => e.body.data.id === imageId); }
}

function hookEnv(receiver, extra = {}) {
  return {
    WEBHOOK_URLS: receiver.url, WEBHOOK_SECRETS: receiver.secret,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',  // the receiver is on loopback
    WEBHOOK_RETRY_INITIAL_MS: '50', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_POLL_MS: '50',
    WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_CONNECT_TIMEOUT_MS: '1000',
    ...extra,
  };
}

async function prometheus(svc) {
  const text = await (await fetch(`${svc.base}/metrics`, { headers: { accept: PROM_ACCEPT } })).text();
  return (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
}

const started = [];
async function service(env, dataDir) {
  const s = await new Service(env, dataDir).start();
  started.push(s);
  return s;
}
after(async () => {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

test('every event of a mixed upload/patch/delete/erase run arrives once, signed, in order per image', async () => {
  const rx = await new Receiver().start();
  const svc = await service(hookEnv(rx));
  const token = svc.token('hooks-mixed');
  const images = [];
  for (let i = 0; i < 3; i++) images.push((await svc.upload(token, makePng(160 + i, 120), { title: `t${i}` })).json);
  const expected = new Map(images.map((im) => [im.id, [['image.created', im]]]));
  for (let round = 0; round < 2; round++) {
    for (const im of images) {
      const cur = expected.get(im.id).at(-1)[1];
      const r = await svc.req('PATCH', `/images/${im.id}`, { token, body: { version: cur.version, title: `r${round}` } });
      assert.equal(r.status, 200);
      expected.get(im.id).push(['image.updated', r.json]);
    }
  }
  assert.equal((await svc.req('DELETE', `/images/${images[0].id}`, { token })).status, 204);
  expected.get(images[0].id).push(['image.deleted', { id: images[0].id, userId: 'hooks-mixed' }]);
  // The rest go with the erasure: their image.deleted, then user.erased.
  const erased = await svc.req('DELETE', '/users/hooks-mixed/images', { token });
  assert.equal(erased.status, 200);
  assert.equal(erased.json.remaining, 0);
  for (const im of images.slice(1)) expected.get(im.id).push(['image.deleted', { id: im.id, userId: 'hooks-mixed' }]);

  const total = 3 * 4 + 1;
  await until(() => rx.events.length >= total, `${total} events (got ${rx.events.length})`);
  assert.deepEqual(rx.bad, []);
  assert.equal(new Set(rx.events.map((e) => e.id)).size, rx.events.length, 'no event id twice');
  for (const e of rx.events) {
    assert.match(e.id, /^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.ok(Math.abs(e.timestamp - Date.now() / 1000) < 60);
    assert.deepEqual(Object.keys(e.body), ['type', 'timestamp', 'data']);
    assert.ok(!Number.isNaN(Date.parse(e.body.timestamp)));
  }
  for (const [id, want] of expected) {
    const got = rx.of(id).map((e) => [e.body.type, e.body.data]);
    // data of created/updated is the image object exactly as the API answered it.
    assert.deepEqual(got, want, `events of ${id} in order`);
  }
  const userErased = rx.events.filter((e) => e.body.type === 'user.erased');
  assert.deepEqual(userErased.map((e) => e.body.data), [{ userId: 'hooks-mixed' }]);
  const h = await svc.req('GET', '/health');
  assert.equal(h.json.services.webhooks, 'up');
  assert.equal(h.json.status, 'healthy');
  const m = await prometheus(svc);
  assert.equal(m('isvc_webhook_deliveries_total'), total);
  assert.equal(m('isvc_webhook_failed_attempts_total'), 0);
  assert.equal(m('isvc_webhook_parked_total'), 0);
  await until(async () => (await prometheus(svc))('isvc_webhook_backlog') === 0, 'backlog 0');
  await rx.stop();
});

test('receiver down for a while: /health degraded, then every event arrives in order after it returns', async () => {
  const rx = await new Receiver().start();
  const svc = await service(hookEnv(rx));
  const token = svc.token('hooks-down');
  await rx.stop();
  const im = (await svc.upload(token, makePng(160, 120))).json;
  let v = im.version;
  for (let i = 0; i < 3; i++) v = (await svc.req('PATCH', `/images/${im.id}`, { token, body: { version: v, title: `p${i}` } })).json.version;
  const other = (await svc.upload(token, makePng(120, 160))).json;
  await until(async () => {
    const h = await svc.req('GET', '/health');
    return h.json.services.webhooks === 'down' && h.json.status === 'degraded' && h.status === 200;
  }, 'health shows webhooks down');
  // A few retries (backoff 50 ms doubling to 400 ms) while it is down.
  await until(async () => (await prometheus(svc))('isvc_webhook_failed_attempts_total') >= 3, '3 failed attempts');
  assert.equal(rx.events.length, 0);
  await rx.start();
  await until(() => rx.events.length >= 5, () => `5 events (got ${rx.events.length}, ${rx.bad.length} bad)\n${svc.output.slice(-3000)}`);
  assert.deepEqual(rx.bad, []);
  assert.deepEqual(rx.of(im.id).map((e) => [e.body.type, e.body.data.version]),
    [['image.created', 1], ['image.updated', 2], ['image.updated', 3], ['image.updated', 4]]);
  assert.deepEqual(rx.of(other.id).map((e) => e.body.type), ['image.created']);
  await until(async () => (await svc.req('GET', '/health')).json.services.webhooks === 'up', 'health up again');
  const m = await prometheus(svc);
  assert.equal(m('isvc_webhook_deliveries_total'), 5);
  assert.equal(m('isvc_webhook_parked_total'), 0);
  await rx.stop();
});

test('SIGKILL between the write and its delivery: the event arrives after the restart', async () => {
  const rx = await new Receiver().start();
  await rx.stop();
  // The kill may land while the first instance holds its claim on the event (it retries every
  // 50–400 ms); the second instance may then take it only when that lease has run out,
  // WEBHOOK_TIMEOUT_MS × 8 + 5 s (docs/webhooks.md), here 9 s; the wait allows for that.
  const env = hookEnv(rx, { WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_CONNECT_TIMEOUT_MS: '250' });
  const first = await service(env);
  const token = first.token('hooks-kill');
  const im = (await first.upload(token, makePng(150, 150))).json;
  assert.equal(im.version, 1);
  await until(async () => (await prometheus(first))('isvc_webhook_failed_attempts_total') >= 1, 'a failed attempt');
  await first.stop({ signal: 'SIGKILL', keepData: true });
  await rx.start();
  const second = await service({ ...env, JWT_SECRET: first.secret }, first.dataDir);
  await until(() => rx.events.length >= 1, 'the event after restart', 9000 + 20000);
  assert.deepEqual(rx.bad, []);
  assert.deepEqual(rx.events.map((e) => [e.body.type, e.body.data.id]), [['image.created', im.id]]);
  assert.deepEqual(rx.events[0].body.data, im);
  await second.stop({ keepData: true });
  await rx.stop();
});

test(`two instances on one ${DISTRIBUTED ? 'DynamoDB table' : 'SQLite file'}: no event id is delivered twice`, async () => {
  const rx = await new Receiver().start();
  const a = await service(hookEnv(rx));
  const b = await service({ ...hookEnv(rx), JWT_SECRET: a.secret }, a.dataDir);
  const token = a.token('hooks-two');
  const ids = [];
  const writes = [];
  for (let i = 0; i < 8; i++) {
    const svc = i % 2 ? b : a;
    writes.push(svc.upload(token, makePng(140 + i, 120)).then((r) => { assert.equal(r.status, 201); ids.push(r.json.id); }));
  }
  await Promise.all(writes);
  // Each image patched through the other instance.
  for (const [i, id] of ids.entries()) {
    const r = await (i % 2 ? a : b).req('PATCH', `/images/${id}`, { token, body: { version: 1, title: 'x' } });
    assert.equal(r.status, 200);
  }
  await until(() => rx.events.length >= 16, `16 events (got ${rx.events.length})`);
  // Both instances poll the same outbox every 50 ms; once it is empty every event was acknowledged
  // by the instance that held its lease, and the two instances' counters must add up to 16.
  const [ma, mb] = await until(async () => {
    const x = (await prometheus(a))('isvc_webhook_backlog');
    return x === 0 && [await prometheus(a), await prometheus(b)];
  }, 'backlog empty');
  assert.equal(rx.events.length, 16);
  assert.equal(new Set(rx.events.map((e) => e.id)).size, 16, 'no event id twice');
  assert.deepEqual(rx.bad, []);
  assert.equal(ma('isvc_webhook_deliveries_total') + mb('isvc_webhook_deliveries_total'), 16);
  for (const id of ids) assert.deepEqual(rx.of(id).map((e) => e.body.type), ['image.created', 'image.updated']);
  await b.stop();
  await rx.stop();
});

test('a target on 127.0.0.1 is refused without WEBHOOK_ALLOW_PRIVATE_TARGETS: parked, counted, logged', async () => {
  const rx = await new Receiver().start();
  const env = hookEnv(rx);
  delete env.WEBHOOK_ALLOW_PRIVATE_TARGETS;
  const svc = await service(env);
  const token = svc.token('hooks-private');
  const im = (await svc.upload(token, makePng(130, 130))).json;
  const [line] = await svc.logLines((j) => j.event === 'webhook_refused', { ms: 10000 });
  assert.equal(line.level, 'warn');
  assert.equal(line.type, 'image.created');
  assert.match(line.reason, /127\.0\.0\.1 is loopback/);
  assert.equal(line.target, `http://127.0.0.1:${rx.port}/hook`);
  const m = await prometheus(svc);
  assert.equal(m('isvc_webhook_parked_total'), 1);
  assert.equal(m('isvc_webhook_deliveries_total'), 0);
  // The gauge is counted after the batch that parked it (the log line comes first): it may still
  // show the count taken when the event was waiting.
  await until(async () => (await prometheus(svc))('isvc_webhook_backlog') === 0, 'backlog 0');
  assert.equal(rx.events.length + rx.bad.length, 0, 'nothing reached the receiver');
  assert.ok(im.id);
  await rx.stop();
});
