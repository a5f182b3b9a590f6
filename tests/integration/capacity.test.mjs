// The capacity model of docs/distributed.md, checked against the engines: for each API operation
// the table there names the DynamoDB and S3 requests it costs, and this test performs the
// operation once against the real engines and compares that with what the service counted
// (isvc_engine_requests_total, every attempt by service and action). Distributed mode only; the
// Redis cache is left out so that the counts are the stores' own (the model says what a cache hit
// saves).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DOC = path.resolve(HERE, '../../docs/distributed.md');
const skip = !DISTRIBUTED && 'the capacity model is of the distributed backends';

// The model: rows of the table between the capacity-model markers, "PutItem 3, UpdateItem 2".
function model() {
  const text = readFileSync(DOC, 'utf8');
  const block = text.split('<!-- capacity-model:begin -->')[1]?.split('<!-- capacity-model:end -->')[0];
  assert.ok(block, 'docs/distributed.md has no capacity-model table');
  const rows = new Map();
  for (const line of block.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length < 3 || cells[0] === 'operation' || /^-+$/.test(cells[0])) continue;
    const parse = (service, cell) => {
      const out = {};
      if (cell === '—' || cell === '0') return out;
      for (const part of cell.split(',')) {
        const m = part.trim().match(/^([A-Za-z0-9]+) (\d+)$/);
        assert.ok(m, `capacity model: cannot read "${part}" in row "${cells[0]}"`);
        out[`${service}.${m[1]}`] = Number(m[2]);
      }
      return out;
    };
    rows.set(cells[0].replace(/`/g, ''), { ...parse('dynamodb', cells[1]), ...parse('s3', cells[2]) });
  }
  return rows;
}

let svc, token;
const PROM = { accept: 'text/plain;version=0.0.4' };

// Engine requests counted so far, as { "dynamodb.PutItem": n, ... }.
async function engineCounts() {
  const r = await fetch(`${svc.base}/metrics`, { headers: PROM });
  assert.equal(r.status, 200);
  const out = {};
  for (const line of (await r.text()).split('\n')) {
    const m = line.match(/^isvc_engine_requests_total\{service="([a-z0-9]+)",action="([A-Za-z0-9]+)"\} (\d+)$/);
    if (m) out[`${m[1]}.${m[2]}`] = Number(m[3]);
  }
  return out;
}

// What `op` cost: the difference of two scrapes, less the second scrape's own read of the
// global figures (the model's `metrics scrape` row, checked on its own below).
async function measure(op, { scrape = true } = {}) {
  const before = await engineCounts();
  await op();
  const after = await engineCounts();
  const delta = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0) - (scrape && k === 'dynamodb.Query' ? 1 : 0);
    if (d) delta[k] = d;
  }
  return delta;
}

before(async () => {
  if (skip) return;
  // No Redis, no janitor or fsck timers during the measurement, one variant width.
  svc = await new Service({
    REDIS_ENDPOINT: '', JANITOR_INTERVAL_S: '86400', FSCK_INTERVAL_S: '0',
    VARIANT_WIDTHS: '320', VARIANT_FORMATS: 'webp',
  }).start();
  token = svc.token('capacity-user');
  // The janitor runs once at start (a Scan of expired idempotency keys): wait for it, so that it
  // is not counted against an operation.
  const deadline = Date.now() + 10000;
  while (!((await engineCounts())['dynamodb.Scan'] >= 1)) {
    assert.ok(Date.now() < deadline, 'the start-up janitor did not run within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
});
after(async () => { if (svc) assert.equal((await svc.stop()).code, 0); });

test('every operation costs exactly the engine requests the capacity model says', { skip }, async () => {
  const m = model();
  const measured = new Map();
  let img;
  measured.set('upload', await measure(async () => {
    img = (await svc.upload(token, makePng(640, 480, { seed: 1 }))).json;
    assert.equal(img.id.length, 26);
  }));
  let tagged;
  measured.set('upload with an album and 2 tags', await measure(async () => {
    tagged = await svc.upload(token, makePng(640, 480, { seed: 2 }), { albumId: 'trip', tags: ['sea', 'sun'] });
    assert.equal(tagged.status, 201, JSON.stringify(tagged.json));
    assert.deepEqual([tagged.json.albumId, tagged.json.tags], ['trip', ['sea', 'sun']]);
  }));
  measured.set('get', await measure(async () => {
    assert.equal((await svc.req('GET', `/images/${img.id}`, { token })).status, 200);
  }));
  measured.set('list, first page', await measure(async () => {
    const r = await svc.req('GET', '/images?limit=20', { token });
    assert.equal(r.status, 200);
    assert.equal(r.json.images.length, 2);
  }));
  measured.set('list, an album and a tag', await measure(async () => {
    const r = await svc.req('GET', '/images?limit=20&albumId=trip&tag=sea', { token });
    assert.equal(r.status, 200);
    assert.equal(r.json.images.length, 1);
  }));
  measured.set('patch, title', await measure(async () => {
    const r = await svc.req('PATCH', `/images/${img.id}`, { token, body: { title: 'Harbour', version: img.version } });
    assert.equal(r.status, 200);
    img = r.json;
  }));
  measured.set('patch, 2 tags added', await measure(async () => {
    const r = await svc.req('PATCH', `/images/${img.id}`, { token, body: { tags: ['a', 'b'], version: img.version } });
    assert.equal(r.status, 200);
    img = r.json;
  }));
  measured.set('file, first view on an instance', await measure(async () => {
    assert.equal((await fetch(img.imageUrl)).status, 200);
  }));
  measured.set('file, later views', await measure(async () => {
    assert.equal((await fetch(img.imageUrl)).status, 200);
  }));
  measured.set('variant, first request', await measure(async () => {
    assert.equal((await fetch(img.variants[0].url)).status, 200);
  }));
  measured.set('delete', await measure(async () => {
    assert.equal((await svc.req('DELETE', `/images/${img.id}`, { token })).status, 204);
  }));
  measured.set('metrics scrape', await measure(async () => {}, { scrape: false }));

  const report = [...measured].map(([op, d]) => `${op}: ${JSON.stringify(d)}`).join('\n');
  for (const [op, d] of measured) {
    assert.ok(m.has(op), `docs/distributed.md's capacity model has no row "${op}"; measured:\n${report}`);
    assert.deepEqual(d, m.get(op), `engine requests of "${op}" differ from the model; measured:\n${report}`);
  }
});
