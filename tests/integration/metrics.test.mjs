// GET /metrics: the JSON summary by default, the Prometheus text exposition when Accept asks for
// text/plain or OpenMetrics (SPEC §9). After a small flow the scrape holds exact counts per
// route/method/status and per upload outcome, and `promtool check metrics` finds nothing to say.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service, DISTRIBUTED } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROMTOOL = path.resolve(HERE, '../tools/bin/promtool');
const DEPLOY = path.resolve(HERE, '../../deploy');
let svc, scrape;
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
  scrape = text;
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
  // Store calls by backend and operation: one upload wrote two objects and one record.
  const [meta, objects] = DISTRIBUTED ? ['dynamodb', 's3'] : ['sqlite', 'filesystem'];
  assert.equal(sample('isvc_store_call_duration_seconds_count', `store="object",backend="${objects}",operation="put"`), 2);
  assert.equal(sample('isvc_store_call_duration_seconds_count', `store="metadata",backend="${meta}",operation="insert"`), 1);
  assert.ok(sample('isvc_store_call_duration_seconds_count', `store="metadata",backend="${meta}",operation="stats"`) >= 1);
  assert.ok(text.includes('# TYPE isvc_store_errors_total counter'));
  // No id ever becomes a label value.
  assert.ok(!text.includes(img.id), 'an image id leaked into a label');

  if (!existsSync(PROMTOOL)) return assert.fail(`promtool missing at ${PROMTOOL}: run scripts/install-deps.sh`);
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text });
  assert.equal(lint.status, 0, lint.stdout.toString() + lint.stderr.toString());
  assert.equal(lint.stdout.toString() + lint.stderr.toString(), '');
});

function promtool(...args) {
  assert.ok(existsSync(PROMTOOL), `promtool missing at ${PROMTOOL}: run scripts/install-deps.sh`);
  const r = spawnSync(PROMTOOL, args, { cwd: path.join(DEPLOY, 'prometheus') });
  return { code: r.status, out: r.stdout.toString() + r.stderr.toString() };
}

test('the alert rules pass promtool check and their unit tests (deploy/prometheus)', () => {
  let r = promtool('check', 'rules', 'alerts.yml');
  assert.equal(r.code, 0, r.out);
  r = promtool('test', 'rules', 'alerts.test.yml');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test('the Grafana dashboard has the brief\'s widgets and queries only metrics the service exports', () => {
  assert.ok(scrape, 'runs after the scrape test');
  const dash = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/image-service.json'), 'utf8'));
  const titles = dash.panels.map((p) => p.title);
  for (const t of ['Upload success rate', 'P95 upload latency', 'Throttling and store errors', 'File cache hit rate', 'Error rate (5xx)'])
    assert.ok(titles.includes(t), t);
  const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  for (const e of exprs)
    for (const [name] of e.matchAll(/\bisvc_[a-z_]+\b/g))
      assert.ok(exported.has(name.replace(/_(bucket|sum|count)$/, '')), `${name} is not exported`);
  // Every query is valid PromQL: promtool checks them as recording rules.
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-dash-'));
  try {
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:panel${i}`, expr })) }] };
    writeFileSync(path.join(dir, 'dash.yml'), JSON.stringify(rules));  // JSON is YAML
    const r = promtool('check', 'rules', path.join(dir, 'dash.yml'));
    assert.equal(r.code, 0, r.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/swagger serves Swagger UI for the /api-docs document', async () => {
  const page = await fetch(`${svc.base}/swagger`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await page.text();
  for (const asset of ['swagger/swagger-ui.css', 'swagger/swagger-ui-bundle.js', 'swagger/init.js']) {
    assert.ok(html.includes(asset), asset);
    const r = await fetch(new URL(asset, `${svc.base}/swagger`));
    assert.equal(r.status, 200, asset);
    assert.match(r.headers.get('content-type'), asset.endsWith('.css') ? /^text\/css/ : /^application\/javascript/);
    const body = await r.text();
    if (asset.endsWith('bundle.js')) assert.ok(body.includes('SwaggerUIBundle') && body.length > 500_000);
    if (asset.endsWith('init.js')) assert.match(body, /url: 'api-docs'/);
  }
  assert.equal((await fetch(`${svc.base}/swagger/../../etc/passwd`)).status, 404);
  assert.equal((await fetch(`${svc.base}/swagger/nope.js`)).status, 404);
  const doc = await fetch(new URL('api-docs', `${svc.base}/swagger`));
  assert.equal(doc.status, 200);
  assert.match(await doc.text(), /^openapi: 3\.0\.3/);
});
