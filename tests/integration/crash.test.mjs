// Crash consistency (SPEC §6): SIGKILL the service at random moments of a mixed upload / patch /
// delete load, 20 times in a row, restarting on the same data each time. Every acknowledged
// write must have happened: each 201 image is fully retrievable (metadata and both files) unless
// a later delete was acknowledged, each acknowledged update is there (or a later one), each
// acknowledged delete is gone. fsck then finds no dangling record, and `fsck --repair` removes
// the orphans the kills left (objects written before their metadata).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service, DISTRIBUTED, backendEnv } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { runTool } from './lib/tool.mjs';

const ROUNDS = 20;

// A small deterministic PRNG, so a failing run can be replayed (the seed is in the test name).
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test(`SIGKILL during mixed load, ${ROUNDS} times: every acknowledged write survives; fsck repairs the rest`, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-crash-'));
  const random = rng(20261126);
  const images = new Map();  // id → { version, title, deleted }
  let secret, svc;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      svc = await new Service(secret ? { JWT_SECRET: secret } : {}, dir).start();
      secret = svc.secret;
      const token = svc.token('crash-user');
      // Check what the previous rounds acknowledged.
      for (const [id, want] of images) {
        const r = await svc.req('GET', `/images/${id}`, { token });
        if (want.deleted) { assert.equal(r.status, 404, `round ${round}: ${id} was deleted`); continue; }
        // A delete that was sent but never answered may have happened (or happened half-way,
        // which hides the image too).
        if (want.maybeDeleted && r.status === 404) { want.deleted = true; continue; }
        assert.equal(r.status, 200, `round ${round}: ${id} lost`);
        assert.ok(r.json.version >= want.version, `round ${round}: ${id} version ${r.json.version} < ${want.version}`);
        if (r.json.version === want.version) assert.equal(r.json.title, want.title);
        for (const url of [r.json.imageUrl, r.json.thumbnailUrl]) {
          const f = await fetch(url);
          assert.equal(f.status, 200, `round ${round}: ${url}`);
          await f.arrayBuffer();
        }
        want.version = r.json.version;  // an unacknowledged later update may have landed
        want.title = r.json.title;
      }
      // Mixed load from 4 clients until a random number of acknowledgements, then SIGKILL.
      const killAfter = 3 + Math.floor(random() * 12);
      let acks = 0, stop = false;
      const live = () => [...images].filter(([, v]) => !v.deleted && !v.maybeDeleted && !v.busy);
      const worker = async (w) => {
        for (let i = 0; !stop; i++) {
          const pick = random();
          const candidates = live();
          try {
            if (pick < 0.5 || candidates.length < 3) {
              const r = await svc.upload(token, makePng(200 + (i % 7) * 10, 150, { seed: round * 100 + w * 10 + i }), { title: `r${round}` });
              if (r.status === 201) { images.set(r.json.id, { version: r.json.version, title: r.json.title, deleted: false }); acks++; }
            } else {
              const [id, cur] = candidates[Math.floor(random() * candidates.length)];
              cur.busy = true;
              if (pick < 0.8) {
                const title = `edit ${round}.${w}.${i}`;
                const r = await svc.req('PATCH', `/images/${id}`, { token, body: { title, version: cur.version } });
                if (r.status === 200) { cur.version = r.json.version; cur.title = title; acks++; }
              } else {
                cur.maybeDeleted = true;
                const r = await svc.req('DELETE', `/images/${id}`, { token });
                if (r.status === 204) { cur.deleted = true; acks++; }
              }
              cur.busy = false;
            }
          } catch { return; /* the connection died with the server */ }
          if (acks >= killAfter && !stop) { stop = true; svc.proc.kill('SIGKILL'); }
        }
      };
      await Promise.all([0, 1, 2, 3].map(worker));
      for (const v of images.values()) v.busy = false;
      assert.equal((await svc.exited).signal, 'SIGKILL');
    }
    // The last round's acknowledgements, then fsck.
    svc = await new Service({ JWT_SECRET: secret }, dir).start();
    const token = svc.token('crash-user');
    let alive = 0;
    for (const [id, want] of images) {
      const r = await svc.req('GET', `/images/${id}`, { token });
      if (want.maybeDeleted && !want.deleted && r.status === 404) continue;
      assert.equal(r.status, want.deleted ? 404 : 200, id);
      if (!want.deleted) { assert.ok(r.json.version >= want.version); alive++; }
    }
    const list = await svc.req('GET', '/images?limit=1', { token });
    assert.ok(list.json.totalCount >= alive, `${list.json.totalCount} < ${alive}`);
    assert.equal((await svc.stop({ keepData: true })).code, 0);

    const env = { ...process.env, DATA_DIR: dir, ...backendEnv(dir) };
    const check = JSON.parse((await runTool(['fsck', '--json', '--grace', '0s'], env)).out);
    assert.equal(check.dangling, 0, JSON.stringify(check));
    if (!DISTRIBUTED) assert.equal(check.counterDrift, 0, JSON.stringify(check));  // SQLite: one transaction
    const repair = await runTool(['fsck', '--repair', '--json', '--grace', '0s'], env);
    const repaired = JSON.parse(repair.out);
    assert.equal(repaired.repaired, check.orphans + check.pendingDeletes + check.lapsedUploads + check.counterDrift, repair.out);
    const after = await runTool(['fsck', '--json', '--grace', '0s'], env);
    assert.equal(after.code, 0, after.out);
    const clean = JSON.parse(after.out);
    assert.deepEqual([clean.orphans, clean.dangling], [0, 0]);
    console.log(`crash test: ${images.size} images written over ${ROUNDS} kills, ${check.orphans} orphans repaired`);
  } finally {
    if (svc?.proc.exitCode === null && svc.proc.signalCode === null) await svc.stop({ keepData: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
