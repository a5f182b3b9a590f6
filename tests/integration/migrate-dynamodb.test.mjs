// The migration toolkit on the DynamoDB store (dynalite, distributed pass): 100k legacy rows
// (fewer in the sanitizer pass: ISVC_MIGRATE_ROWS) go in through batched writes; a re-run changes
// nothing; verify is clean; the API lists exactly the legacy rows of sampled users, with their
// totals and album filters; a run killed with SIGKILL resumes and ends like an uninterrupted one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, Service, DISTRIBUTED, backendEnv } from './lib/server.mjs';
import { startPostgres, generateLegacy } from './lib/postgres.mjs';
import { runTool, migrateUntilKilled } from './lib/tool.mjs';
import { legacyIds as legacyIdsOf, listAll as listAllOf } from './lib/listing.mjs';

const skip = DISTRIBUTED ? false : 'distributed pass only (migrate.test.mjs covers the embedded store)';
const ROWS = Number(process.env.ISVC_MIGRATE_ROWS || 100000), USERS = Math.max(1, Math.round(ROWS / 50));
const uuidOf = (s) => createHash('md5').update(s).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
let pg, data, first;
const dirs = [];

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  data = generateLegacy(pg, ROWS, USERS);
});
after(async () => {
  if (skip) return;
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const legacyIds = (where) => legacyIdsOf(pg, where);
const listAll = listAllOf;

// A fresh data directory with its own table and bucket, provisioned.
function freshStore(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  const env = { ...process.env, DATA_DIR: dir, ...backendEnv(dir) };
  execFileSync(BIN, ['provision'], { env });
  return { dir, env };
}


test('legacy rows migrate into DynamoDB in batches; re-runs change nothing; verify is clean; lists match', { skip }, async () => {
  first = freshStore('isvc-migd-');
  const { dir, env } = first;
  const ok = ROWS - data.rejected;
  let r = await runTool(['migrate', '--legacy-url', pg.url], env);
  assert.equal(r.code, 0, r.err);
  console.log(r.out.trim());  // the summary with rows/s, kept in the test log
  assert.match(r.out, new RegExp(`read ${ROWS}, written ${ok} \\(created ${ok}, updated 0\\), skipped 0 unchanged, rejected ${data.rejected}`));
  // Text the old system accepted (control characters in single-line fields) arrives normalised.
  assert.match(r.out, new RegExp(`normalized ${data.normalized} \\(see `));
  assert.equal(readFileSync(path.join(dir, 'migrate-normalized.jsonl'), 'utf8').trim().split('\n').length, data.normalized);
  assert.ok(!existsSync(path.join(dir, 'migrate-checkpoint.json')));
  r = await runTool(['migrate', '--legacy-url', pg.url], env);
  assert.match(r.out, new RegExp(`written 0 \\(created 0, updated 0\\), skipped ${ok} unchanged, rejected ${data.rejected} .*counter fixes 0,`));
  r = await runTool(['verify', '--legacy-url', pg.url, '--json'], env);
  assert.equal(r.code, 0, r.out);
  assert.equal(JSON.parse(r.out).compared, ok);

  const svc = await new Service({}, dir).start();
  try {
    for (const k of [0, 1, 42, USERS - 1]) {
      const uid = uuidOf(`user${k}`);
      const token = svc.token(uid);
      const expected = legacyIds(`user_id = '${uid}'`);
      const got = await listAll(svc, token);
      assert.equal(got.total, expected.length);
      assert.deepEqual(got.ids, expected);
      const album = pg.sql(`SELECT album_id FROM gallery_images WHERE user_id = '${uid}' AND album_id IS NOT NULL LIMIT 1`).trim();
      if (album) {
        const inAlbum = await listAll(svc, token, `&albumId=${album}`);
        assert.deepEqual(inAlbum.ids, legacyIds(`user_id = '${uid}' AND album_id = '${album}'`));
        assert.equal(inAlbum.total, inAlbum.ids.length);
      }
    }
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

test('a DynamoDB migration killed with SIGKILL resumes from its checkpoint and ends like an uninterrupted run', { skip }, async () => {
  const { dir, env } = freshStore('isvc-migd-kill-');
  const killed = await migrateUntilKilled(['--legacy-url', pg.url], env);
  assert.equal(killed.signal, 'SIGKILL', killed.err);
  const cp = JSON.parse(readFileSync(path.join(dir, 'migrate-checkpoint.json'), 'utf8'));
  assert.ok(cp.read > 0 && cp.read < ROWS, JSON.stringify(cp));

  const r = await runTool(['migrate', '--legacy-url', pg.url], env);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`\\(resumed\\): read ${ROWS},`));
  assert.ok(!existsSync(path.join(dir, 'migrate-checkpoint.json')));
  const v = await runTool(['verify', '--legacy-url', pg.url, '--json'], env);
  assert.equal(v.code, 0, v.out);
  assert.equal(JSON.parse(v.out).mismatchCount, 0);
  // Nothing left to do, and the counters the resumed run settled are exact (a run ends by
  // recounting them; this one finds nothing to fix).
  const again = await runTool(['migrate', '--legacy-url', pg.url], env);
  assert.match(again.out, new RegExp(`written 0 \\(created 0, updated 0\\), skipped ${ROWS - data.rejected} unchanged, .*counter fixes 0,`));
  // Same totals as the uninterrupted run would give: every user's count equals the legacy rows.
  const svc = await new Service({}, dir).start();
  try {
    for (const k of [3, USERS - 2]) {
      const uid = uuidOf(`user${k}`);
      const res = await svc.req('GET', '/images?limit=1', { token: svc.token(uid) });
      assert.equal(res.json.totalCount, legacyIds(`user_id = '${uid}'`).length);
    }
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

test('legacy rows that would take another user\'s image or objects are rejected, never written (batch and per-record paths)', { skip }, async () => {
  const { dir, env } = first;
  const [victim, thief] = [uuidOf('user11'), uuidOf('user12')];
  const victims = legacyIds(`user_id = '${victim}'`);
  const [taken] = victims;
  const keyOf = (id) => pg.sql(`SELECT s3_key FROM gallery_images WHERE id = '${id}'`).trim();
  const thumbOf = (id) => pg.sql(`SELECT thumbnail_key FROM gallery_images WHERE id = '${id}'`).trim();
  const svc = await new Service({}, dir).start();
  try {
    const token = svc.token(victim);
    const before = (await svc.req('GET', `/images/${taken}`, { token })).json;
    pg.sql(`UPDATE gallery_images SET user_id = '${thief}', title = 'moved', updated_at = now() WHERE id = '${taken}'`);
    // New rows of the thief: one on the victim's object, one on her thumbnail, and two that
    // collide with each other within one batch (the second is refused).
    const [dupMain, dupThumb, first1, first2] = ['dup-main', 'dup-thumb', 'pair-1', 'pair-2'].map(uuidOf);
    const insert = (id, user, key, thumb) => pg.sql(`INSERT INTO gallery_images (id, user_id, original_filename, mime_type,
      file_size, s3_key, thumbnail_key, created_at, updated_at) VALUES ('${id}', '${user}', 'x.jpg', 'image/jpeg', 1, '${key}',
      ${thumb ? `'${thumb}'` : 'NULL'}, now(), now())`);
    insert(dupMain, thief, keyOf(victims[1]), null);
    insert(dupThumb, thief, 'legacy/thief/own.jpg', thumbOf(victims[2]) || keyOf(victims[2]));
    insert(first1, uuidOf('user13'), 'legacy/pair/shared.jpg', null);
    insert(first2, thief, 'legacy/pair/shared.jpg', null);
    try {
      const r = await runTool(['migrate', '--legacy-url', pg.url, '--since', '1h'], env);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /read 5, written 1 \(created 1, updated 0\), skipped 0 unchanged, rejected 4 /);
      const rejects = readFileSync(path.join(dir, 'migrate-rejects.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
      const reason = Object.fromEntries(rejects.map((x) => [x.id, x.reason]));
      assert.equal(rejects.length, 4, JSON.stringify(rejects));
      assert.match(reason[taken], /^userId: IMAGE_OWNER_CONFLICT/);
      for (const id of [dupMain, dupThumb, first2]) assert.match(reason[id], /OBJECT_KEY_CONFLICT/, id);
      assert.deepEqual((await svc.req('GET', `/images/${taken}`, { token })).json, before);
      const thiefToken = svc.token(thief);
      for (const id of [taken, dupMain, dupThumb, first2])
        assert.equal((await svc.req('GET', `/images/${id}`, { token: thiefToken })).status, id === taken ? 403 : 404, id);
      assert.equal((await svc.req('GET', `/images/${first1}`, { token: svc.token(uuidOf('user13')) })).status, 200);
    } finally {
      pg.sql(`UPDATE gallery_images SET user_id = '${victim}' WHERE id = '${taken}';
              DELETE FROM gallery_images WHERE id IN ('${dupMain}', '${dupThumb}', '${first1}', '${first2}')`);
    }
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});
