// The migration toolkit on the DynamoDB store (dynalite, distributed pass): migrate, idempotent
// re-run, verify, and the API's lists per user. A smaller dataset than migrate.test.mjs: dynalite
// is a JavaScript engine on the same two cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, Service, DISTRIBUTED, backendEnv } from './lib/server.mjs';
import { startPostgres, generateLegacy } from './lib/postgres.mjs';

const skip = DISTRIBUTED ? false : 'distributed pass only (migrate.test.mjs covers the embedded store)';
const ROWS = 5000, USERS = 100;
const uuidOf = (s) => createHash('md5').update(s).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

test('legacy rows migrate into DynamoDB; re-runs change nothing; verify is clean; lists match', { skip }, async () => {
  const pg = await startPostgres();
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-migd-'));
  let svc;
  try {
    const data = generateLegacy(pg, ROWS, USERS);
    const env = { ...process.env, DATA_DIR: dir, ...backendEnv(dir) };
    execFileSync(BIN, ['provision'], { env });
    const run = (args) => new Promise((resolve) => {
      const p = spawn(BIN, args, { env });
      let out = '', err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      p.on('close', (code) => resolve({ code, out, err }));
    });
    const ok = ROWS - data.rejected;
    let r = await run(['migrate', '--legacy-url', pg.url]);
    assert.equal(r.code, 0, r.err);
    console.log(r.out.trim());  // the summary with rows/s, kept in the test log
    assert.match(r.out, new RegExp(`read ${ROWS}, written ${ok} \\(created ${ok}, updated 0\\), skipped 0 unchanged, rejected ${data.rejected}`));
    r = await run(['migrate', '--legacy-url', pg.url]);
    assert.match(r.out, new RegExp(`written 0 \\(created 0, updated 0\\), skipped ${ok} unchanged`));
    r = await run(['verify', '--legacy-url', pg.url, '--json']);
    assert.equal(r.code, 0, r.out);
    assert.equal(JSON.parse(r.out).compared, ok);

    svc = await new Service({}, dir).start();
    for (const k of [0, 42]) {
      const uid = uuidOf(`user${k}`);
      const expected = pg.sql(`SELECT id FROM gallery_images WHERE user_id = '${uid}' AND mime_type LIKE 'image/%'
        AND coalesce(length(description), 0) <= 5000 ORDER BY created_at DESC, id DESC`).trim().split('\n');
      const res = await svc.req('GET', '/images?limit=100', { token: svc.token(uid) });
      assert.equal(res.json.totalCount, expected.length);
      assert.deepEqual(res.json.images.map((i) => i.id), expected.slice(0, 100));
    }
  } finally {
    if (svc) assert.equal((await svc.stop()).code, 0);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
