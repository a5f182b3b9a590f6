// Dual-write import (SPEC §2, §8): POST /images with JSON from a service token, idempotent by id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Service } from './lib/server.mjs';

let svc, service, alice;
before(async () => {
  svc = await new Service().start();
  service = svc.token('legacy-api', 'service');
  alice = svc.token('5f0c2a9e-0000-4000-8000-00000000a11c');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

const importRecord = (body, token = service) => svc.req('POST', '/images', { token, body });

function legacy(overrides = {}) {
  return {
    id: randomUUID(), userId: '5f0c2a9e-0000-4000-8000-00000000a11c', albumId: 'a7d1a0d2-1111-4111-8111-000000000001',
    s3Key: 'gallery/5f0c2a9e/castle.jpg', thumbnailKey: 'gallery/5f0c2a9e/thumb_castle.jpg',
    originalFilename: 'Château de Chambord.jpg', mimeType: 'image/jpeg', fileSize: 2345678,
    width: 4000, height: 3000, title: 'Chambord', description: 'line 1\nline 2', altText: 'a castle',
    tags: ['castle', 'loire'], createdAt: '2023-04-01T10:00:00.000Z', updatedAt: '2023-04-02T08:30:00Z',
    ...overrides,
  };
}

test('a new record is created with the SPEC §8 mapping, then re-imports are idempotent by id', async () => {
  const rec = legacy();
  let r = await importRecord(rec);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.equal(r.headers.get('x-import-result'), 'created');
  const img = r.json;
  assert.equal(img.id, rec.id);
  assert.equal(img.userId, rec.userId);
  assert.equal(img.albumId, rec.albumId);
  assert.equal(img.s3Key, rec.s3Key);
  assert.equal(img.thumbnailKey, rec.thumbnailKey);
  assert.equal(img.imageUrl, `${svc.base}/files/${rec.s3Key}`);
  assert.equal(img.originalFilename, rec.originalFilename);
  assert.equal(img.mimeType, 'image/jpeg');
  assert.equal(img.fileSize, 2345678);
  assert.deepEqual([img.width, img.height, img.aspectRatio], [4000, 3000, 1.333]);
  assert.equal(img.processingStatus, 'completed');
  assert.equal(img.version, 1);
  assert.deepEqual(img.tags, ['castle', 'loire']);
  assert.equal(img.createdAt, '2023-04-01T10:00:00.000Z');
  assert.equal(img.uploadedAt, '2023-04-01T10:00:00.000Z');
  assert.equal(img.updatedAt, '2023-04-02T08:30:00.000Z');

  r = await importRecord(rec);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-import-result'), 'unchanged');
  assert.equal(r.json.version, 1);

  r = await importRecord({ ...rec, title: 'Chambord (east side)', updatedAt: '2023-05-01T00:00:00Z' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-import-result'), 'updated');
  assert.equal(r.json.version, 2);
  assert.equal(r.json.title, 'Chambord (east side)');

  r = await importRecord({ ...rec, title: 'stale', updatedAt: '2023-04-20T00:00:00Z' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-import-result'), 'unchanged');
  assert.equal(r.json.title, 'Chambord (east side)');
  assert.equal(r.json.version, 2);

  // The owner sees it like any of their images.
  r = await svc.req('GET', `/images/${rec.id}`, { token: alice });
  assert.equal(r.status, 200);
  assert.equal(r.json.title, 'Chambord (east side)');
  r = await svc.req('GET', `/images?albumId=${rec.albumId}`, { token: alice });
  assert.equal(r.json.totalCount, 1);
  assert.deepEqual(r.json.images.map((i) => i.id), [rec.id]);
});

test('unknown sizes, missing thumbnails and NULL tags map to defaults', async () => {
  const rec = legacy({ width: null, height: null, thumbnailKey: null, tags: null, albumId: null, updatedAt: null,
    title: null, description: null, altText: null, mimeType: 'image/png' });
  const r = await importRecord(rec);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.deepEqual([r.json.width, r.json.height, r.json.aspectRatio], [0, 0, 1]);
  assert.equal(r.json.thumbnailKey, undefined);
  assert.equal(r.json.thumbnailUrl, undefined);
  assert.deepEqual(r.json.tags, []);
  assert.equal(r.json.albumId, undefined);
  assert.equal(r.json.updatedAt, r.json.createdAt);
  assert.equal(r.json.format, 'png');
});

test('only the service role may import', async () => {
  for (const token of [alice, svc.token('root', 'admin')]) {
    const r = await importRecord(legacy(), token);
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'NOT_AUTHORIZED');
  }
  assert.equal((await importRecord(legacy(), null)).status, 401);
});

test('validation errors name the field', async () => {
  const cases = [
    [{ id: 'not-a-uuid' }, 'id'], [{ id: undefined }, 'id'], [{ userId: '' }, 'userId'],
    [{ s3Key: undefined }, 's3Key'], [{ s3Key: 42 }, 's3Key'], [{ originalFilename: '' }, 'originalFilename'],
    [{ mimeType: 'application/pdf' }, 'mimeType'], [{ fileSize: -1 }, 'fileSize'], [{ fileSize: '12' }, 'fileSize'],
    [{ width: 'wide' }, 'width'], [{ height: 0 }, 'height'], [{ createdAt: 'yesterday' }, 'createdAt'],
    [{ updatedAt: '2023-13-01T00:00:00Z' }, 'updatedAt'], [{ tags: 'castle' }, 'tags'], [{ tags: [1] }, 'tags'],
    [{ albumId: 'bad album' }, 'albumId'], [{ title: 'x'.repeat(256) }, 'title'],
    [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
  ];
  for (const [over, field] of cases) {
    const r = await importRecord(legacy(over));
    assert.equal(r.status, 400, JSON.stringify(over));
    assert.equal(r.json.code, 'VALIDATION_FAILED', JSON.stringify(r.json));
    assert.equal(r.json.details.field, field, JSON.stringify(r.json));
  }
  let r = await svc.req('POST', '/images', { token: service, body: '[1,2]', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'BAD_REQUEST');
  // A JSON body is bounded like every JSON body (1 MiB), not like an upload.
  r = await importRecord(legacy({ description: 'x'.repeat(1024 * 1024) }));
  assert.equal(r.status, 413);
  assert.equal(r.json.code, 'PAYLOAD_TOO_LARGE');
});
