// 45 uploads page as 20/20/5 with no duplicates, in both orders and with filters; cursors are
// bound to their caller and filters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

let svc, alice, bob;
const ids = [];
before(async () => {
  svc = await new Service().start();
  alice = svc.token('alice');
  bob = svc.token('bob');
  for (let i = 0; i < 45; i++) {
    const fields = {};
    if (i % 3 === 0) fields.albumId = 'album-A';
    if (i % 3 === 1) fields.tags = ['t1', 'other'];
    const r = await svc.upload(alice, makePng(120, 100, { seed: i }), fields);
    assert.equal(r.status, 201);
    ids.push(r.json.id);
  }
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

async function walk(token, query, limit = 20) {
  const pages = [];
  let cursor = null;
  for (let guard = 0; guard < 20; guard++) {
    const q = new URLSearchParams({ ...query, limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const r = await svc.req('GET', `/images?${q}`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    pages.push(r.json);
    if (!r.json.pagination.hasMore) {
      assert.equal(r.json.pagination.nextCursor, null);
      break;
    }
    cursor = r.json.pagination.nextCursor;
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  }
  return pages;
}

test('45 images page as 20/20/5 in both orders without duplicates', async () => {
  for (const sortOrder of ['desc', 'asc']) {
    const pages = await walk(alice, { sortOrder });
    assert.deepEqual(pages.map((p) => p.images.length), [20, 20, 5]);
    const seen = pages.flatMap((p) => p.images.map((i) => i.id));
    assert.equal(new Set(seen).size, 45);
    assert.deepEqual(seen, sortOrder === 'asc' ? ids : [...ids].reverse());
    for (const p of pages) {
      assert.equal(p.totalCount, 45);
      assert.equal(p.pagination.limit, 20);
    }
    const item = pages[0].images[0];
    for (const k of ['id', 'userId', 'thumbnailUrl', 'imageUrl', 'width', 'height', 'tags', 'uploadedAt', 'version'])
      assert.ok(k in item, k);
  }
});

test('album and tag filters page and count exactly', async () => {
  const album = await walk(alice, { albumId: 'album-A' }, 10);
  assert.deepEqual(album.map((p) => p.images.length), [10, 5]);
  assert.equal(album[0].totalCount, 15);
  assert.ok(album.flatMap((p) => p.images).every((i) => i.albumId === 'album-A'));
  const tagged = await walk(alice, { tag: 't1', sortOrder: 'asc' }, 7);
  assert.deepEqual(tagged.map((p) => p.images.length), [7, 7, 1]);
  assert.equal(tagged[0].totalCount, 15);
  assert.ok(tagged.flatMap((p) => p.images).every((i) => i.tags.includes('t1')));
  const none = await walk(alice, { albumId: 'album-A', tag: 't1' });
  assert.equal(none[0].totalCount, 0);
  assert.equal((await walk(bob, {}))[0].totalCount, 0);
});

test('cursors are bound to the caller and the filters; limit may change', async () => {
  const first = (await svc.req('GET', '/images?limit=5', { token: alice })).json;
  const cursor = encodeURIComponent(first.pagination.nextCursor);
  let r = await svc.req('GET', `/images?cursor=${cursor}`, { token: bob });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_CURSOR');
  for (const q of ['albumId=album-A', 'tag=t1', 'sortOrder=asc']) {
    r = await svc.req('GET', `/images?cursor=${cursor}&${q}`, { token: alice });
    assert.equal(r.json.code, 'INVALID_CURSOR', q);
  }
  r = await svc.req('GET', `/images?cursor=${cursor}&limit=7`, { token: alice });
  assert.equal(r.status, 200);
  assert.equal(r.json.images.length, 7);
  assert.equal(r.json.images[0].id, ids[39]);
});

test('uploads while paging neither duplicate nor skip older images', async () => {
  const seen = [];
  let cursor = null;
  for (let n = 0; ; n++) {
    const r = await svc.req('GET', `/images?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: alice });
    seen.push(...r.json.images.map((i) => i.id));
    assert.equal((await svc.upload(alice, makePng(120, 100, { seed: 100 + n }))).status, 201);
    if (!r.json.pagination.hasMore) break;
    cursor = r.json.pagination.nextCursor;
  }
  assert.equal(new Set(seen).size, seen.length);
  for (const id of ids) assert.ok(seen.includes(id));
});
