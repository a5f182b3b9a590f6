// `serve --config FILE`: settings from a KEY=value file, secrets from *_FILE, the environment
// overriding the file, and start-up refusals naming the key and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, Service } from './lib/server.mjs';

test('serve --config: the file sets the settings, JWT_SECRET_FILE the secret, the environment wins', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-config-'));
  const svc = new Service({ JWT_SECRET: '', MAX_PAGE_SIZE: '' });
  writeFileSync(path.join(dir, 'jwt'), `${svc.secret}\n`);
  const file = path.join(dir, 'isvc.env');
  writeFileSync(file, [
    '# image-service settings', '', `JWT_SECRET_FILE="${path.join(dir, 'jwt')}"`,
    "MAX_PAGE_SIZE='7'", 'LOG_LEVEL=debug', 'STAGE=staging',
  ].join('\n') + '\n');
  svc.serveArgs = ['--config', file];
  try {
    await svc.start();  // the harness passes STAGE=dev in the environment: it overrides the file
    const [line] = await svc.logLines((j) => j.event === 'listening');
    assert.equal(line.stage, 'dev');
    assert.equal(line.devSecret, false);  // the secret came from JWT_SECRET_FILE
    const token = svc.token('cfg-user');
    assert.equal((await svc.req('GET', '/images?limit=7', { token })).status, 200);
    const over = await svc.req('GET', '/images?limit=8', { token });
    assert.equal(over.status, 400);  // MAX_PAGE_SIZE=7 from the file
    assert.equal(over.json.code, 'VALIDATION_FAILED');
  } finally {
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --config refuses unknown keys and bad values, naming key and line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-config-bad-'));
  try {
    const cases = [
      ['PORT=0\n# a comment\nMAX_CONECTIONS=10\n', /^image-service: configuration error: MAX_CONECTIONS: unknown setting \(.*isvc\.env line 3\)$/m],
      ['PORT=0\nMAX_CONNECTIONS=lots\n', /configuration error: MAX_CONNECTIONS: expected an integer, got 'lots' \(.*isvc\.env line 2\)/],
      ['export PORT=0\n', /configuration error: .*isvc\.env line 1: 'export' is not part of the format/],
    ];
    for (const [text, re] of cases) {
      const file = path.join(dir, 'isvc.env');
      writeFileSync(file, text);
      const env = { ...process.env, DATA_DIR: path.join(dir, 'data') };
      delete env.PORT; delete env.MAX_CONNECTIONS;
      const r = spawnSync(BIN, ['serve', '--config', file], { env, encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 2, r.stderr + r.stdout.slice(0, 300));
      assert.match(r.stderr, re);
    }
    const missing = spawnSync(BIN, ['serve', '--config', path.join(dir, 'nope.env')], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^image-service: configuration error: --config: cannot read '.*nope\.env'$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
