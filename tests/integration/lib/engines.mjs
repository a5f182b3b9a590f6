// Test engines on loopback for distributed-mode tests: dynalite or DynamoDB Local, and s3rver
// through tests/tools/engine.mjs, redis-server from Debian. Each resolves once the engine said it is
// ready (no sleeps) and can be stopped and started again on the same port (fault tests).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ENGINE = path.resolve(here, '../../tools/engine.mjs');

function waitForLine(proc, pattern, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = out.match(pattern);
      if (m) {
        proc.stdout.off('data', onData);
        resolve(m);
      }
    };
    proc.stdout.on('data', onData);
    proc.on('exit', (c) => reject(new Error(`${what} exited (${c}) before it was ready:\n${out}`)));
  });
}

// dynalite and dynamodb-local (AWS's DynamoDB Local): args = [dataDir?] (persistent when given);
// s3rver: args = [dataDir].
export async function startEngine(kind, args = [], port = undefined) {
  const argv = kind === 's3rver' ? [...args, ...(port === undefined ? [] : [String(port)])] : [String(port ?? 0), ...args];
  const proc = spawn(process.execPath, [ENGINE, kind, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  const m = await waitForLine(proc, /READY (\d+)\n/, kind);
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const p = Number(m[1]);
  return {
    kind, port: p, endpoint: `http://127.0.0.1:${p}`,
    async stop() { proc.stdin.end(); proc.kill('SIGTERM'); await exited; },
    restart() { return startEngine(kind, args, p); },
  };
}

// The DynamoDB engine of the distributed pass: ISVC_DYNAMODB_ENGINE=local for AWS's DynamoDB
// Local, dynalite otherwise.
export function dynamoEngineKind() {
  const e = process.env.ISVC_DYNAMODB_ENGINE ?? 'dynalite';
  if (e === 'local') return 'dynamodb-local';
  if (e === 'dynalite') return 'dynalite';
  throw new Error(`ISVC_DYNAMODB_ENGINE must be dynalite or local, not ${e}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

export async function startRedis(port = undefined) {
  const bin = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find(existsSync);
  if (!bin) return null;
  const p = port ?? await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-redis-'));
  const proc = spawn(bin, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForLine(proc, /Ready to accept connections/, 'redis-server');
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  return {
    kind: 'redis', port: p, endpoint: `redis://127.0.0.1:${p}`,
    async stop() { proc.kill('SIGTERM'); await exited; rmSync(dir, { recursive: true, force: true }); },
    restart() { return startRedis(p); },
    // Unreachable but keeping its data (a partition), then back.
    pause() { proc.kill('SIGSTOP'); },
    resume() { proc.kill('SIGCONT'); },
  };
}

// A TCP proxy on loopback in front of a server, that a test can cut (every connection reset,
// new ones refused — a network partition: what was sent is lost, the server keeps its data) and
// restore.
export async function startTcpProxy(targetPort) {
  const { createServer: createTcpServer, connect } = await import('node:net');
  const sockets = new Set();
  let cut = false;
  const server = createTcpServer((client) => {
    if (cut) return client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    endpoint: `redis://127.0.0.1:${port}`,
    cut() { cut = true; for (const s of sockets) s.destroy(); },
    restore() { cut = false; },
    stop() { for (const s of sockets) s.destroy(); return new Promise((resolve) => server.close(resolve)); },
  };
}

// Varnish (from Debian) on `port` in front of a backend on loopback, honouring PURGE from
// loopback. Resolves once it answers. null when varnishd is not installed.
export async function startVarnish(port, backendPort) {
  const bin = ['/usr/sbin/varnishd', '/usr/bin/varnishd'].find(existsSync);
  if (!bin) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-varnish-'));
  const { writeFileSync, chmodSync } = await import('node:fs');
  chmodSync(dir, 0o755);
  const vcl = path.join(dir, 'default.vcl');
  writeFileSync(vcl, `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${backendPort}"; }
acl purgers { "127.0.0.1"; }
sub vcl_recv {
  if (req.method == "PURGE") {
    if (!client.ip ~ purgers) { return (synth(405, "not allowed")); }
    return (purge);
  }
}
sub vcl_deliver {
  if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
`);
  const proc = spawn(bin, ['-F', '-a', `127.0.0.1:${port}`, '-f', vcl, '-n', path.join(dir, 'work'), '-s', 'malloc,32m'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  // varnishd prints "Child (N) Started" when it serves.
  await new Promise((resolve, reject) => {
    const check = () => { if (/Child \(\d+\) Started/.test(out)) { clearInterval(t); resolve(); } };
    const t = setInterval(check, 20);
    proc.on('exit', (c) => { clearInterval(t); reject(new Error(`varnishd exited (${c}):\n${out}`)); });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() { proc.kill('SIGTERM'); await exited; rmSync(dir, { recursive: true, force: true }); },
  };
}

export { freePort };
