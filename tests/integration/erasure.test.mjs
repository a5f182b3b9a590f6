// GDPR erasure: DELETE /users/{userId}/images (SPEC §2) removes every image of the user —
// metadata and files — for that user or an admin (audited in the log), never for anyone else;
// idempotent, and resumable when the time budget runs out (202 until done).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

let svc;
before(async () => { svc = await new Service({ ERASE_BUDGET_MS: '1' }).start(); });
after(async () => { assert.equal((await svc.stop()).code, 0); });

async function uploadMany(token, n, fields = {}) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await svc.upload(token, makePng(120, 120, { seed: i }), fields);
    assert.equal(r.status, 201);
    out.push(r.json);
  }
  return out;
}
const erase = (user, token) => svc.req('DELETE', `/users/${encodeURIComponent(user)}/images`, { token });
async function eraseAll(user, token) {
  let deleted = 0, calls = 0, r;
  do {
    r = await erase(user, token);
    assert.ok(r.status === 200 || r.status === 202, JSON.stringify(r.json));
    assert.equal(r.json.complete, r.status === 200);
    deleted += r.json.deleted;
    calls++;
  } while (r.status === 202 && calls < 50);
  return { deleted, calls, last: r };
}

test('the user erases all their images and files, in resumable steps; others are untouched; a repeat is a no-op', async () => {
  const user = 'erase.me@example.com';
  const token = svc.token(user);
  const mine = await uploadMany(token, 4, { albumId: 'holiday', tags: 'sea' });
  const other = svc.token('erase-bystander');
  const theirs = await uploadMany(other, 1);

  const { deleted, calls, last } = await eraseAll(user, token);
  assert.equal(deleted, 4);
  assert.ok(calls >= 2, `a 1 ms budget takes several calls (took ${calls})`);
  assert.deepEqual(last.json, { userId: user, deleted: last.json.deleted, remaining: 0, complete: true });
  const list = await svc.req('GET', '/images', { token });
  assert.equal(list.json.totalCount, 0);
  assert.equal((await svc.req('GET', '/images?albumId=holiday', { token })).json.totalCount, 0);
  for (const img of mine) {
    assert.equal((await svc.req('GET', `/images/${img.id}`, { token })).status, 404);
    assert.equal((await fetch(img.imageUrl)).status, 404);
    assert.equal((await fetch(img.thumbnailUrl)).status, 404);
  }
  assert.equal((await svc.req('GET', `/images/${theirs[0].id}`, { token: other })).status, 200);

  const again = await erase(user, token);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { userId: user, deleted: 0, remaining: 0, complete: true });
});

test('nobody else may erase a user; an admin may, and the log records it', async () => {
  const victim = 'erase-victim';
  await uploadMany(svc.token(victim), 2);
  for (const token of [svc.token('erase-attacker'), svc.token('legacy-api', 'service')]) {
    const r = await erase(victim, token);
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'NOT_AUTHORIZED');
  }
  assert.equal((await erase(victim)).status, 401);
  assert.equal((await svc.req('GET', '/images', { token: svc.token(victim) })).json.totalCount, 2);

  const { deleted } = await eraseAll(victim, svc.token('root', 'admin'));
  assert.equal(deleted, 2);
  await svc.logLines((a) => a.event === 'admin_override' && a.adminId === 'root' && a.ownerId === victim && a.operation === 'erase_user');
});

test('an admin reading or changing someone else\'s image is audited', async () => {
  const owner = svc.token('audit-owner');
  const img = (await svc.upload(owner, makePng(120, 120))).json;
  const admin = svc.token('auditor', 'admin');
  assert.equal((await svc.req('GET', `/images/${img.id}`, { token: admin })).status, 200);
  assert.equal((await svc.req('PATCH', `/images/${img.id}`, { token: admin, body: { title: 'moderated', version: img.version } })).status, 200);
  assert.equal((await svc.req('DELETE', `/images/${img.id}`, { token: admin })).status, 204);
  const ops = (await svc.logLines((a) => a.event === 'admin_override' && a.imageId === img.id, { count: 3 }))
    .map((a) => a.operation);
  assert.deepEqual(ops, ['get', 'update', 'delete']);
  // The owner acting on their own image is not an override.
  const own = (await svc.upload(owner, makePng(120, 120))).json;
  const r = await svc.req('GET', `/images/${own.id}`, { token: owner });
  await svc.logCaughtUp(r.headers.get('x-request-id'));
  assert.ok(!svc.output.split('\n').some((l) => l.includes('"admin_override"') && l.includes(own.id)));
});
