// Helpers shared by the migration tests: what the service must list for a legacy user, and
// everything the service lists.
import assert from 'node:assert/strict';

// The legacy ids matching `where` as the service must list them: the rows the migration keeps
// (image MIME types, descriptions within limits), newest first, ties by id.
export function legacyIds(pg, where) {
  return pg.sql(`SELECT id FROM gallery_images WHERE ${where} AND mime_type LIKE 'image/%'
    AND coalesce(length(description), 0) <= 5000 ORDER BY created_at DESC, id DESC`).trim().split('\n').filter(Boolean);
}

// Every page of GET /images (with extra query parameters), following the cursors.
export async function listAll(svc, token, query = '') {
  const ids = [];
  let cursor = null, total = null;
  for (let guard = 0; guard < 100; guard++) {
    const r = await svc.req('GET', `/images?limit=100${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    ids.push(...r.json.images.map((i) => i.id));
    total = r.json.totalCount;
    cursor = r.json.nextCursor;
    if (!r.json.hasMore) break;
  }
  return { ids, total };
}
