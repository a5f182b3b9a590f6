// image-service fsck (SPEC §6, §12): orphans, dangling records, repair with a grace period, the
// JSON report and the exit status — in whichever mode the suite runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

// Changes objects behind the service's back (s3rver accepts unsigned requests).
async function putObject(svc, key, bytes) {
  if (svc.backend.OBJECT_BACKEND === 's3') {
    const r = await fetch(`${svc.backend.S3_ENDPOINT}/${svc.bucket}/${key}`, { method: 'PUT', body: bytes });
    assert.equal(r.status, 200);
  } else {
    const file = path.join(svc.dataDir, 'objects', key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
}
async function removeObject(svc, key) {
  if (svc.backend.OBJECT_BACKEND === 's3') {
    const r = await fetch(`${svc.backend.S3_ENDPOINT}/${svc.bucket}/${key}`, { method: 'DELETE' });
    assert.equal(r.status, 204);
  } else {
    rmSync(path.join(svc.dataDir, 'objects', key));
  }
}

function fsck(svc, ...args) {
  const env = { ...process.env, DATA_DIR: svc.dataDir, JWT_SECRET: svc.secret, ...svc.backend };
  const r = spawnSync(BIN, ['fsck', '--json', ...args], { env, timeout: 60000 });
  assert.equal(r.stderr.toString(), '');
  return { code: r.status, report: JSON.parse(r.stdout.toString()) };
}

test('fsck finds orphans and dangling records, repairs orphans past the grace period', async () => {
  const svc = await new Service().start();
  try {
    const token = svc.token('fsck-user');
    const ups = [];
    for (const seed of [1, 2, 3]) {
      const r = await svc.upload(token, makePng(200, 150, { seed }));
      assert.equal(r.status, 201);
      ups.push(r.json);
    }
    let r = fsck(svc, '--grace', '0s');
    assert.equal(r.code, 0, JSON.stringify(r.report));
    assert.equal(r.report.checked, 3);
    assert.equal(r.report.objects, 6);

    await putObject(svc, 'images/fsck-user/01J00000000000000000000000.webp', 'orphan');
    await putObject(svc, 'images/fsck-user/stray.bin', 'stray');
    await removeObject(svc, ups[1].thumbnailKey);

    r = fsck(svc, '--grace', '0s');
    assert.equal(r.code, 1);
    assert.deepEqual([r.report.orphans, r.report.dangling, r.report.repaired, r.report.checked],
      [2, 1, 0, 3]);
    assert.deepEqual(r.report.orphanKeys.sort(),
      ['images/fsck-user/01J00000000000000000000000.webp', 'images/fsck-user/stray.bin']);
    assert.deepEqual(r.report.danglingIds, [ups[1].id]);

    // Within the grace period an unreferenced object may be an upload in flight: left alone.
    r = fsck(svc, '--repair', '--grace', '1h');
    assert.equal(r.report.orphans, 0);
    assert.equal(r.report.repaired, 0);

    r = fsck(svc, '--repair', '--grace', '0s');
    assert.equal(r.code, 1);  // the dangling record is reported, never silently removed
    assert.deepEqual([r.report.orphans, r.report.dangling, r.report.repaired], [2, 1, 2]);

    // The owner deletes the broken image; everything else is intact.
    assert.equal((await svc.req('DELETE', `/images/${ups[1].id}`, { token })).status, 204);
    r = fsck(svc, '--grace', '0s');
    assert.equal(r.code, 0, JSON.stringify(r.report));
    assert.deepEqual([r.report.orphans, r.report.dangling, r.report.checked, r.report.objects], [0, 0, 2, 4]);
    for (const u of [ups[0], ups[2]]) {
      assert.equal((await fetch(u.imageUrl)).status, 200);
      assert.equal((await svc.req('GET', `/images/${u.id}`, { token })).status, 200);
    }
    assert.equal((await svc.req('GET', '/images', { token })).json.totalCount, 2);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

test('fsck prints a human summary without --json', async () => {
  const svc = await new Service().start();
  try {
    const env = { ...process.env, DATA_DIR: svc.dataDir, JWT_SECRET: svc.secret, ...svc.backend };
    const r = spawnSync(BIN, ['fsck'], { env, timeout: 60000 });
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), /^checked 0 records and 0 objects \(/);
    assert.match(r.stdout.toString(), /orphaned objects \(older than 1h\): 0/);
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});

test('the running service exports the orphan and dangling counts of its periodic check', async () => {
  const svc = await new Service({ FSCK_INTERVAL_S: '1', FSCK_GRACE_S: '0' }).start();
  try {
    const token = svc.token('fsck-metrics');
    const up = (await svc.upload(token, makePng(200, 150, { seed: 9 }))).json;
    await putObject(svc, 'images/fsck-metrics/01J00000000000000000000001.webp', 'orphan');
    await removeObject(svc, up.thumbnailKey);
    // Poll the metric (the check runs every second); give up after 20 s.
    let m;
    for (const started = Date.now(); Date.now() - started < 20000;) {
      m = (await svc.req('GET', '/metrics')).json;
      if (m.orphanedObjects === 1 && m.danglingRecords === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(m.orphanedObjects, 1, JSON.stringify(m));
    assert.equal(m.danglingRecords, 1, JSON.stringify(m));
  } finally {
    assert.equal((await svc.stop()).code, 0);
  }
});
