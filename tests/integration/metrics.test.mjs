// GET /metrics: the JSON summary by default, the Prometheus text exposition when Accept asks for
// text/plain or OpenMetrics (SPEC §9). After a small flow the scrape holds exact counts per
// route/method/status and per upload outcome, and `promtool check metrics` finds nothing to say.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

const PROMTOOL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tools/bin/promtool');
let svc;
before(async () => { svc = await new Service().start(); });
after(async () => { assert.equal((await svc.stop()).code, 0); });

const PROM_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

test('a Prometheus scrape counts requests and upload outcomes exactly, and promtool finds it clean', async () => {
  const token = svc.token('metrics-user');
  const img = (await svc.upload(token, makePng(160, 120))).json;
  assert.equal((await svc.upload(token, Buffer.from('no image here'))).status, 400);
  assert.equal((await svc.req('GET', `/images/${img.id}`, { token })).status, 200);
  assert.equal((await svc.req('GET', `/images/${img.id}`, { token })).status, 200);
  assert.equal((await svc.req('GET', '/images/01J00000000000000000000000', { token })).status, 404);
  assert.equal((await svc.req('GET', '/images')).status, 401);
  assert.equal((await fetch(img.imageUrl)).status, 200);

  const json = await svc.req('GET', '/metrics');
  assert.equal(json.headers.get('content-type'), 'application/json');
  assert.equal(json.json.totalImages, 1);

  const r = await fetch(`${svc.base}/metrics`, { headers: { accept: PROM_ACCEPT } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await r.text();
  const sample = (name, labels) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `) || (labels === '' && l.startsWith(`${name} `)));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  assert.equal(sample('isvc_http_requests_total', 'route="/images/{id}",method="GET",status="200"'), 2);
  assert.equal(sample('isvc_http_requests_total', 'route="/images/{id}",method="GET",status="404"'), 1);
  assert.equal(sample('isvc_http_requests_total', 'route="/images",method="GET",status="401"'), 1);
  assert.equal(sample('isvc_http_requests_total', 'route="/files/{key}",method="GET",status="200"'), 1);
  assert.equal(sample('isvc_http_request_duration_seconds_count', 'route="/images/{id}",method="GET"'), 3);
  assert.equal(sample('isvc_uploads_total', 'outcome="created"'), 1);
  assert.equal(sample('isvc_uploads_total', 'outcome="INVALID_FILE_TYPE"'), 1);
  assert.equal(sample('isvc_image_processing_seconds_count', ''), 1);
  assert.equal(sample('isvc_cache_requests_total', 'layer="file",result="miss"'), 1);
  assert.equal(sample('isvc_images', ''), 1);
  assert.ok(sample('process_start_time_seconds', '') > 1.7e9);
  assert.equal(sample('isvc_processing_queue_depth', ''), 0);
  // No id ever becomes a label value.
  assert.ok(!text.includes(img.id), 'an image id leaked into a label');

  if (!existsSync(PROMTOOL)) return assert.fail(`promtool missing at ${PROMTOOL}: run scripts/install-deps.sh`);
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text });
  assert.equal(lint.status, 0, lint.stdout.toString() + lint.stderr.toString());
  assert.equal(lint.stdout.toString() + lint.stderr.toString(), '');
});
