// Zero-configuration start in dev (generated, persisted dev secret), and start-up refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, Service } from './lib/server.mjs';

function cleanEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const k of ['JWT_SECRET', 'JWT_JWKS_URL', 'JWT_JWKS_FILE', 'STAGE', 'PORT', 'HOST'])
    if (!(k in extra)) delete env[k];
  return env;
}

test('dev with no auth configuration generates a secret that token and serve share', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-zero-'));
  try {
    const token = execFileSync(BIN, ['token', '--user', 'zero'], { env: cleanEnv({ DATA_DIR: dir }) }).toString().trim();
    const secretFile = path.join(dir, 'dev-jwt-secret');
    assert.ok(existsSync(secretFile));
    assert.equal(readFileSync(secretFile, 'utf8').trim().length, 64);
    // The Service helper always passes JWT_SECRET; an empty value means "unset" to the service.
    const svc = new Service({ JWT_SECRET: '' }, dir);
    await svc.start();
    try {
      const r = await svc.req('GET', '/images', { token });
      assert.equal(r.status, 200);
    } finally {
      assert.equal((await svc.stop()).code, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('production without auth configuration, and bad values, stop start-up naming the variable', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-bad-'));
  try {
    const cases = [
      [{ STAGE: 'production' }, /JWT_SECRET/],
      [{ PORT: 'eighty' }, /PORT/],
      [{ STAGE: 'prod' }, /STAGE/],
      [{ MAX_FILE_SIZE: '-5' }, /MAX_FILE_SIZE/],
      [{ CORS_ALLOWED_ORIGINS: '*' }, /CORS_ALLOWED_ORIGINS/],
      [{ METADATA_BACKEND: 'mysql' }, /METADATA_BACKEND/],
    ];
    for (const [extra, pattern] of cases) {
      const r = spawnSync(BIN, ['serve'], { env: cleanEnv({ DATA_DIR: dir, PORT: '0', ...extra }), timeout: 10000 });
      assert.equal(r.status, 2, JSON.stringify(extra));
      assert.match(r.stderr.toString(), pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
