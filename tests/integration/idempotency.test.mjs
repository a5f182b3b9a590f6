// Idempotency-Key on uploads and upload-complete (SPEC §6, §12), in both stores: a replay returns
// the first result (200, same image, nothing stored twice), another request under the key → 409
// IDEMPOTENCY_KEY_REUSED, keys are per user, concurrent duplicates create one image, a failed
// request frees its key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

let svc;
before(async () => { svc = await new Service().start(); });
after(async () => { assert.equal((await svc.stop()).code, 0); });

function upload(token, key, file, fields = {}) {
  const form = new FormData();  // a new multipart boundary every time
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file]), 'photo.png');
  return svc.req('POST', '/images', { token, body: form, headers: key ? { 'idempotency-key': key } : {} });
}
const count = async (token) => (await svc.req('GET', '/images?limit=1', { token })).json.totalCount;

test('a replay returns the first image with 200; a different request under the key is a 409; keys are per user', async () => {
  const token = svc.token('idem-alice');
  const png = makePng(200, 150, { seed: 1 });
  const first = await upload(token, 'key-1', png, { title: 'one' });
  assert.equal(first.status, 201);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const again = await upload(token, 'key-1', png, { title: 'one' });
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.json.id, first.json.id);
  assert.deepEqual(again.json, first.json);
  assert.equal(await count(token), 1);

  const otherTitle = await upload(token, 'key-1', png, { title: 'two' });
  assert.equal(otherTitle.status, 409);
  assert.equal(otherTitle.json.code, 'IDEMPOTENCY_KEY_REUSED');
  const otherFile = await upload(token, 'key-1', makePng(200, 150, { seed: 2 }), { title: 'one' });
  assert.equal(otherFile.status, 409);
  assert.equal(await count(token), 1);

  // Another user's identical key is another key.
  const bob = await upload(svc.token('idem-bob'), 'key-1', png, { title: 'one' });
  assert.equal(bob.status, 201);
  assert.notEqual(bob.json.id, first.json.id);
  // Without a key every upload is new.
  assert.equal((await upload(token, null, png, { title: 'one' })).status, 201);
  assert.equal(await count(token), 2);

  // A replay after the image was deleted: 404, nothing re-created.
  assert.equal((await svc.req('DELETE', `/images/${first.json.id}`, { token })).status, 204);
  const gone = await upload(token, 'key-1', png, { title: 'one' });
  assert.equal(gone.status, 404);
  assert.equal(gone.json.code, 'IMAGE_NOT_FOUND');
});

test('concurrent duplicates create exactly one image', async () => {
  const token = svc.token('idem-racer');
  const png = makePng(1200, 900, { seed: 3 });  // long enough to overlap
  const rs = await Promise.all(Array.from({ length: 6 }, () => upload(token, 'race-key', png)));
  const statuses = rs.map((r) => r.status).sort();
  assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
  const id = rs.find((r) => r.status === 201).json.id;
  for (const r of rs) {
    if (r.status === 200) assert.equal(r.json.id, id);
    else if (r.status === 409) {
      assert.equal(r.json.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(r.headers.get('retry-after'), '1');
    } else assert.equal(r.status, 201);
  }
  // Retrying the ones that were told to wait gets the same image.
  const retry = await upload(token, 'race-key', png);
  assert.equal(retry.status, 200);
  assert.equal(retry.json.id, id);
  assert.equal(await count(token), 1);
});

test('a failed request frees its key; bad keys are refused', async () => {
  const token = svc.token('idem-failer');
  const bad = await upload(token, 'key-f', Buffer.from('not an image at all'));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, 'INVALID_FILE_TYPE');
  // The same key now carries a different (valid) request: it runs.
  assert.equal((await upload(token, 'key-f', makePng(150, 150))).status, 201);
  for (const key of ['x'.repeat(256), 'with space', 'tab\tkey']) {
    const r = await upload(token, key, makePng(150, 150));
    assert.equal(r.status, 400, key);
    assert.equal(r.json.details.field, 'Idempotency-Key');
  }
});

test('upload-complete with a key: a replay is 200 with the image; another upload under the key is a 409', async () => {
  const token = svc.token('idem-direct');
  const png = makePng(300, 200, { seed: 4 });
  const started = async () => {
    const r = await svc.req('POST', '/images/uploads', { token, body: { filename: 'd.png', contentType: 'image/png', contentLength: png.length } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const put = await fetch(r.json.uploadUrl, { method: 'PUT', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(put.status, 200);
    return r.json.uploadId;
  };
  const u1 = await started();
  const complete = (id) => svc.req('POST', `/images/uploads/${id}/complete`, { token, headers: { 'idempotency-key': 'direct-key' } });
  const first = await complete(u1);
  assert.equal(first.status, 201);
  const again = await complete(u1);
  assert.equal(again.status, 200);
  assert.equal(again.json.id, first.json.id);
  const u2 = await started();
  const other = await complete(u2);
  assert.equal(other.status, 409);
  assert.equal(other.json.code, 'IDEMPOTENCY_KEY_REUSED');
});
