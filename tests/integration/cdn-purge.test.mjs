// CDN purge on delete (SPEC §5) against a real Varnish in front of the service: a deleted
// image's files (main image, thumbnail, the variants that were made) stop coming out of the CDN's
// cache because the service sent PURGE for each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { freePort, startVarnish } from './lib/engines.mjs';
import { makePng } from './lib/png.mjs';

test('a delete purges the main image, the thumbnail and the variants from Varnish', async () => {
  const vport = await freePort();
  const svc = await new Service({
    CDN_PURGE_URL: `http://127.0.0.1:${vport}/files`, CDN_BASE_URL: `http://127.0.0.1:${vport}/files`,
    CDN_PURGE_RETRY_BASE_MS: '20',
  }).start();
  const varnish = await startVarnish(vport, svc.port);
  assert.ok(varnish, 'varnishd is required (scripts/install-deps.sh installs it)');
  try {
    const token = svc.token('cdn-user');
    const up = await svc.upload(token, makePng(700, 500, { seed: 8 }));
    assert.equal(up.status, 201);
    assert.ok(up.json.imageUrl.startsWith(varnish.base + '/files/'), up.json.imageUrl);
    // A variant too (made at the origin on the CDN's first miss).
    const variant = up.json.variants.find((v) => v.format === 'avif').url;
    assert.ok(variant.startsWith(varnish.base + '/files/'), variant);
    const cached = [up.json.imageUrl, up.json.thumbnailUrl, variant];
    for (const url of cached) {
      assert.equal((await fetch(url)).headers.get('x-cache'), 'MISS');
      const hit = await fetch(url);
      assert.equal(hit.status, 200);
      assert.equal(hit.headers.get('x-cache'), 'HIT');
    }
    let health = await svc.req('GET', '/health');
    assert.equal(health.json.services.cdn, 'up');

    assert.equal((await svc.req('DELETE', `/images/${up.json.id}`, { token })).status, 204);
    // The purge is asynchronous: poll the CDN (bounded) until it stops serving the cached copies.
    for (const url of cached) {
      let status = 200;
      for (let i = 0; i < 200 && status === 200; i++) {
        status = (await fetch(url)).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(status, 404, `${url} still served by the CDN after the delete`);
    }
    health = await svc.req('GET', '/health');
    assert.equal(health.json.status, 'healthy');
  } finally {
    await varnish?.stop();
    assert.equal((await svc.stop()).code, 0);
  }
});

test('purges to an unreachable CDN are retried, then reported: health degraded, cdn down', async () => {
  const deadPort = await freePort();  // nothing listens there
  const svc = await new Service({
    CDN_PURGE_URL: `http://127.0.0.1:${deadPort}/files`, CDN_PURGE_RETRY_BASE_MS: '1',
  }).start();
  try {
    const token = svc.token('cdn-user');
    const up = await svc.upload(token, makePng(300, 200, { seed: 9 }));
    assert.equal((await svc.req('DELETE', `/images/${up.json.id}`, { token })).status, 204);
    let health;
    for (let i = 0; i < 200; i++) {
      health = await svc.req('GET', '/health');
      if (health.json.services.cdn === 'down') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'degraded');
    assert.equal(health.json.services.cdn, 'down');
    await svc.logLines((j) => j.event === 'cdn_purge_failed');
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});
