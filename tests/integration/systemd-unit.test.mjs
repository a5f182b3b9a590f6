// deploy/image-service.service: `systemd-analyze verify` accepts it and `systemd-analyze security`
// rates it "OK" or better; deploy/image-service.env is a valid `serve --config` file; the service
// speaks the sd_notify protocol (READY=1 once listening, STOPPING=1 on SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, Service } from './lib/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const unitText = readFileSync(path.join(root, 'deploy/image-service.service'), 'utf8');
const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const havePython = spawnSync('python3', ['--version']).status === 0;

// A copy of the unit whose ExecStart names the binary under test (verify needs it to exist).
function unitCopy(dir) {
  const p = path.join(dir, 'image-service.service');
  writeFileSync(p, unitText.replace('/usr/local/bin/image-service', path.resolve(BIN)));
  return p;
}

test('systemd-analyze verify accepts the unit', { skip: !haveAnalyze && 'no systemd-analyze' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-unit-'));
  try {
    const r = spawnSync('systemd-analyze', ['verify', unitCopy(dir)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal((r.stderr + r.stdout).trim(), '', 'verify printed warnings');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('systemd-analyze security rates the unit OK or better (exposure <= 4.9)', { skip: !haveAnalyze && 'no systemd-analyze' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-unit-'));
  try {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unitCopy(dir)], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(r.stdout + r.stderr);
    assert.ok(m, r.stdout + r.stderr);
    console.log(`systemd-analyze security: ${m[1]} ${m[2]}`);
    assert.ok(Number(m[1]) <= 4.9, m[0]);
    assert.ok(['OK', 'SAFE', 'PERFECT'].includes(m[2]), m[0]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('deploy/image-service.env is accepted by serve --config', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-envfile-'));
  const secret = path.join(dir, 'jwt');
  writeFileSync(secret, 'x'.repeat(48) + '\n');
  // The example's host, port and TLS are overridden from the environment (which wins).
  const svc = new Service({ JWT_SECRET: '', JWT_SECRET_FILE: secret, STAGE: 'production', HOST: '127.0.0.1', PORT: '0' });
  svc.serveArgs = ['--config', path.join(root, 'deploy/image-service.env')];
  try {
    await svc.start();
    const [line] = await svc.logLines((j) => j.event === 'listening');
    assert.equal(line.stage, 'production');
  } finally {
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sd_notify: READY=1 after listening, STOPPING=1 on SIGTERM', { skip: !havePython && 'no python3 (receiver)' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-notify-'));
  const sock = path.join(dir, 'notify.sock');
  // A unix datagram receiver (node has none): prints each datagram as a JSON line.
  const rx = spawn('python3', ['-c', `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("bound", flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rx.stdout.on('data', (d) => { out += d; });
  const waitFor = async (pred, what) => {
    for (const deadline = Date.now() + 10000; !pred(out);) {
      if (Date.now() > deadline) throw new Error(`${what} not received within 10 s: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor((o) => o.includes('bound'), 'receiver');
    const svc = new Service({ NOTIFY_SOCKET: sock });
    await svc.start();
    await waitFor((o) => o.includes('READY=1'), 'READY=1');
    const ready = JSON.parse(out.split('\n').find((l) => l.startsWith('"READY=1')));
    assert.match(ready, new RegExp(`^READY=1\\nSTATUS=listening on http://127\\.0\\.0\\.1:${svc.port}\\nMAINPID=${svc.proc.pid}$`));
    assert.ok(!out.includes('STOPPING=1'));
    const stopped = svc.stop();
    await waitFor((o) => o.includes('STOPPING=1'), 'STOPPING=1');
    assert.equal((await stopped).code, 0);
  } finally {
    rx.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
