// Zero-configuration start in dev (generated, persisted dev secret), and start-up refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, Service, resolveCrash } from './lib/server.mjs';

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

test('a crash leaves one JSON line with its stack on stderr, and the process still dies of the signal', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-crash-'));
  // No core file from this deliberate crash (the process's working directory is this folder).
  const proc = spawn('sh', ['-c', 'ulimit -c 0 && exec "$0" serve', BIN], {
    env: cleanEnv({ DATA_DIR: dir, STAGE: 'dev', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: 'x'.repeat(32) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within 10 s:\n${stdout}${stderr}`)), 10000);
      proc.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('"event":"listening"')) { clearTimeout(timer); resolve(); }
      });
    });
    proc.kill('SIGSEGV');
    assert.deepEqual(await exited, { code: null, signal: 'SIGSEGV' });
    const lines = stderr.split('\n').filter((l) => l.includes('"event":"crash"'));
    assert.equal(lines.length, 1, stderr);
    const report = JSON.parse(lines[0]);
    assert.equal(report.level, 'error');
    assert.equal(report.signal, 'SIGSEGV');
    assert.equal(report.sentByPid, process.pid);
    assert.equal(report.pid, proc.pid);
    assert.ok(Array.isArray(report.frames) && report.frames.length >= 3, lines[0]);
    // Frames of the binary are file+offset, which addr2line resolves against the same file.
    const own = report.frames.filter((f) => f.startsWith(`${path.basename(BIN)}+0x`));
    assert.ok(own.length >= 2, lines[0]);
    // The harness resolves them when a service of another test crashes: function names appear.
    assert.match(resolveCrash(stderr), /image-service\+0x[0-9a-f]+ {2}\S+ at /);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
