// In-process TLS (TLS_CERT_FILE/TLS_KEY_FILE): protocols and suites offered and refused, ALPN,
// resumption, certificate rotation on SIGHUP, the handshake timeout and the connection caps,
// start-up errors, and URLs that follow the scheme. Clients: curl, openssl s_client, node:tls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { BIN, Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { fingerprint, makeCa, makeLeaf } from './lib/tls.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'isvc-tls-'));
const ca = makeCa(dir);
const leaf = makeLeaf(dir, ca, 'leaf', { chain: true });
const ossl = { ...process.env, OPENSSL_CONF: '/dev/null' };  // the client's own policy must not hide ours

function run(cmd, args, { input, timeout = 15000 } = {}) {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { env: ossl, timeout, maxBuffer: 1 << 24, encoding: 'latin1' }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
    p.stdin.on('error', () => {});  // the client may exit before reading its input
    p.stdin.end(input ?? '');
  });
}

const curl = (svc, p, extra = []) => run('curl', ['-sS', '-v', '--cacert', ca.cert, ...extra, '-w', '\n%{http_code}', `https://127.0.0.1:${svc.port}${p}`]);
const sClient = (port, args) => run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', ca.cert, ...args], { input: 'Q\n' });
const negotiated = (out) => /Cipher is (?!\(NONE\))\S+/.test(out) && !/Cipher is \(NONE\)/.test(out);

function tlsConnect(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(ca.cert), ALPNProtocols: ['http/1.1'], ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

// One request on an open TLS socket (keep-alive); resolves with the status and the raw response.
function request(sock, p = '/health') {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length >= end + 4 + len) {
        sock.off('data', onData);
        resolve({ status: Number(buf.slice(9, 12)), text: buf });
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(`GET ${p} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

let svc;
before(async () => {
  svc = await new Service({ TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: leaf.key, TLS_HANDSHAKE_TIMEOUT_S: '2', HEADER_TIMEOUT_S: '4' }).start();
  assert.equal(svc.tls, true);
});
after(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('curl verifies the certificate over TLS 1.2 and TLS 1.3, with ALPN http/1.1', async () => {
  for (const [flags, version] of [[['--tlsv1.2', '--tls-max', '1.2'], 'TLSv1.2'], [['--tlsv1.3'], 'TLSv1.3']]) {
    const r = await curl(svc, '/health', flags);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\n200$/);
    assert.equal(JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('\n'))).status, 'healthy');
    assert.match(r.stderr, new RegExp(`SSL connection using ${version.replace('.', '\\.')} / (ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)|TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256))`));
    assert.match(r.stderr, /ALPN: server accepted http\/1\.1/);
  }
  // Plain HTTP on the TLS port gets no HTTP answer.
  const plain = await run('curl', ['-sS', '-m', '5', '-w', '%{http_code}', `http://127.0.0.1:${svc.port}/health`]);
  assert.notEqual(plain.code, 0);
});

test('TLS 1.0, TLS 1.1 and weak TLS 1.2 suites are refused (a control server shows the client would use them)', async () => {
  const weak = [['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'], ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'],
    ['-tls1_2', '-cipher', 'AES128-SHA@SECLEVEL=0'], ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA@SECLEVEL=0'],
    ['-tls1_2', '-cipher', 'AES256-GCM-SHA384@SECLEVEL=0']];
  for (const args of weak) {
    const r = await sClient(svc.port, args);
    assert.ok(!negotiated(r.stdout), `${args.join(' ')} negotiated:\n${r.stdout.slice(0, 600)}`);
  }
  // Control: openssl s_server with the same certificate accepts exactly those clients.
  const port = await new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const rsa = makeLeaf(dir, ca, 'rsa', { type: 'rsa' });
  const ctl = spawn('openssl', ['s_server', '-accept', String(port), '-cert', rsa.cert, '-key', rsa.key, '-cipher', 'ALL@SECLEVEL=0', '-legacy_renegotiation', '-min_protocol', 'TLSv1', '-naccept', String(weak.length), '-quiet'], { env: ossl, stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    for (let i = 0; ; ++i) {
      const probe = await new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); }); s.on('error', () => resolve(false)); });
      if (probe) break;
      assert.ok(i < 100, 'control s_server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) { ctl.kill(); throw e; }
  try {
    for (const args of weak.slice(0, 3)) {
      const r = await sClient(port, args.map((a) => a.replace('ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA')));
      assert.ok(negotiated(r.stdout), `control: ${args.join(' ')} did not negotiate:\n${r.stdout.slice(0, 600)}${r.stderr.slice(0, 600)}`);
    }
  } finally { ctl.kill(); }
});

test('ALPN: http/1.1 is selected; a client offering only h2 gets no ALPN', async () => {
  const a = await sClient(svc.port, ['-alpn', 'h2,http/1.1']);
  assert.match(a.stdout, /ALPN protocol: http\/1\.1/);
  const b = await sClient(svc.port, ['-alpn', 'h2']);
  assert.match(b.stdout, /No ALPN negotiated/);
});

test('sessions resume (TLS 1.2 and 1.3)', async () => {
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
    const first = await tlsConnect(svc.port, { maxVersion });
    const session = await new Promise((resolve) => {
      let got = first.getSession();
      if (maxVersion === 'TLSv1.3') first.once('session', (s) => resolve(s)); else resolve(got);
      request(first).catch(() => {});
    });
    first.destroy();
    const second = await tlsConnect(svc.port, { maxVersion, session });
    assert.equal(second.isSessionReused(), true, maxVersion);
    assert.equal((await request(second)).status, 200);
    second.destroy();
  }
});

test('SIGHUP re-reads the files: new connections see the new certificate, open ones keep working', async () => {
  const old = await tlsConnect(svc.port);
  assert.equal((await request(old)).status, 200);
  const oldFp = old.getPeerCertificate().fingerprint256;
  assert.equal(oldFp, fingerprint(leaf.cert));
  // A file that does not parse: the reload fails, the current certificate stays.
  const cur = { cert: leaf.cert + '.bak', key: leaf.key + '.bak' };
  copyFileSync(leaf.cert, cur.cert);
  copyFileSync(leaf.key, cur.key);
  writeFileSync(leaf.cert, 'not a certificate\n');
  svc.proc.kill('SIGHUP');
  await svc.logLines((j) => j.event === 'tls_reload_failed' && /TLS|certificate|PEM/i.test(j.what));
  const same = await tlsConnect(svc.port);
  assert.equal(same.getPeerCertificate().fingerprint256, oldFp);
  same.destroy();
  // Rotation proper.
  const fresh = makeLeaf(dir, ca, 'fresh');
  copyFileSync(fresh.cert, leaf.cert);
  copyFileSync(fresh.key, leaf.key);
  svc.proc.kill('SIGHUP');
  const [line] = await svc.logLines((j) => j.event === 'tls_reloaded');
  assert.equal(line.sha256, fingerprint(fresh.cert));
  const next = await tlsConnect(svc.port);
  assert.equal(next.getPeerCertificate().fingerprint256, fingerprint(fresh.cert));
  assert.notEqual(fingerprint(fresh.cert), oldFp);
  assert.equal((await request(next)).status, 200);
  next.destroy();
  // The connection opened before the rotation is still served, on its old certificate.
  assert.equal((await request(old)).status, 200);
  assert.equal(old.getPeerCertificate().fingerprint256, oldFp);
  old.destroy();
  const c = await curl(svc, '/health');
  assert.match(c.stdout, /\n200$/);
});

// Opens a TCP connection, sends `bytes`, and resolves with how long the server took to close it.
function closedAfter(port, bytes) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1', () => { if (bytes.length) s.write(bytes); });
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => resolve(Date.now() - t0));
    setTimeout(() => { s.destroy(); reject(new Error('not closed within 10 s')); }, 10000);
  });
}

test('a slow handshake is cut at TLS_HANDSHAKE_TIMEOUT_S (silent, or half a ClientHello)', async () => {
  // The start of a TLS record and ClientHello, then nothing.
  const half = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Array(40).fill(7)]);
  const [silent, partial] = await Promise.all([closedAfter(svc.port, Buffer.alloc(0)), closedAfter(svc.port, half)]);
  for (const ms of [silent, partial]) {
    assert.ok(ms >= 1800 && ms < 3500, `closed after ${ms} ms (timeout 2 s)`);
  }
  // Still serving.
  assert.match((await curl(svc, '/health')).stdout, /\n200$/);
});

test('connections waiting in the handshake hold their seats: beyond MAX_CONNECTIONS only probes are served', async () => {
  const small = await new Service({ TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: leaf.key, MAX_CONNECTIONS: '2', PROBE_CONNECTIONS: '2', TLS_HANDSHAKE_TIMEOUT_S: '10', HEADER_TIMEOUT_S: '10' }).start();
  const idle = [];
  try {
    for (let i = 0; i < 2; ++i) idle.push(await new Promise((resolve) => { const s = net.connect(small.port, '127.0.0.1', () => resolve(s)); s.on('error', () => {}); }));
    await new Promise((r) => setTimeout(r, 100));  // let the accepts land (the seats are taken on accept)
    const images = await curl(small, '/images');
    assert.match(images.stdout, /\n503$/);
    assert.match((await curl(small, '/health')).stdout, /\n200$/);
    for (const s of idle) s.destroy();
    // Seats come back when the connections go.
    for (let i = 0; ; ++i) {
      const r = await curl(small, '/images');
      if (/\n401$/.test(r.stdout)) break;
      assert.ok(i < 50, `still ${r.stdout.slice(-3)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    for (const s of idle) s.destroy();
    await small.stop();
  }
});

test('a refused upload over TLS: the client reads the 401 while it writes; the FIN follows once it stops', async () => {
  const sock = await tlsConnect(svc.port);
  try {
    let text = '';
    let endedAt = 0;
    let writeError = null;
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('end', () => { endedAt = performance.now(); });
    sock.on('error', (e) => { writeError = e; });
    sock.write('POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
      'Content-Length: 4000000\r\n\r\n');
    // 64 KiB every 50 ms for 1.5 s: a client still sending its body (no Authorization: refused
    // from the head, so the body is never read, only discarded).
    const piece = Buffer.alloc(65536, 0x61);
    let lastWrite = 0;
    for (let i = 0; i < 30; i++) {
      await new Promise((resolve, reject) => sock.write(piece, (e) => (e ? reject(e) : resolve())));
      lastWrite = performance.now();
      assert.equal(endedAt, 0, `the FIN came while the client was still writing (piece ${i})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(writeError, null);
    assert.match(text, /^HTTP\/1\.1 401 /, text.slice(0, 200));
    assert.match(text, /\r\nconnection: close\r\n/i);
    // Quiet now: the FIN comes about 1 s after the last bytes (not after the 5 s linger).
    if (!endedAt) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 4000);
        const done = () => { clearTimeout(timer); resolve(); };
        sock.once('end', done).once('close', done);
      });
    }
    assert.ok(endedAt > 0, 'no FIN within 4 s of the last write');
    const quiet = endedAt - lastWrite;
    assert.ok(quiet >= 900 && quiet < 4000, `FIN ${quiet.toFixed(0)} ms after the last write`);
  } finally {
    sock.destroy();
  }
});

test('generated URLs use https: the files URL of an upload', async () => {
  const png = path.join(dir, 'a.png');
  writeFileSync(png, makePng(200, 150));
  const r = await run('curl', ['-sS', '--cacert', ca.cert, '-H', `authorization: Bearer ${svc.token('tls-user')}`, '-F', `file=@${png};type=image/png`, `https://127.0.0.1:${svc.port}/images`]);
  const j = JSON.parse(r.stdout);
  const urls = JSON.stringify(j).match(/"(https?:\/\/[^"]+)"/g) || [];
  assert.ok(urls.length > 0, r.stdout);
  for (const u of urls) assert.ok(u.startsWith(`"https://127.0.0.1:${svc.port}/`), u);
  const file = urls[0].slice(1, -1);
  const got = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca.cert, file]);
  assert.equal(got.stdout, '200');
});

test('start-up refuses unusable TLS files, naming the variable', () => {
  const other = makeLeaf(dir, ca, 'other');
  const garbage = path.join(dir, 'garbage.pem');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n');
  const cases = [
    [{ TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: other.key }, /^image-service: configuration error: TLS_KEY_FILE: the key in '.*' does not match the certificate/m],
    [{ TLS_CERT_FILE: garbage, TLS_KEY_FILE: leaf.key }, /configuration error: TLS_CERT_FILE: cannot load a PEM certificate chain from/],
    [{ TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: garbage }, /configuration error: TLS_KEY_FILE: cannot load a PEM private key \(unencrypted\) from/],
    [{ TLS_CERT_FILE: path.join(dir, 'missing.pem'), TLS_KEY_FILE: leaf.key }, /configuration error: TLS_CERT_FILE: /],
    [{ TLS_CERT_FILE: leaf.cert }, /configuration error: TLS_KEY_FILE: required with TLS_CERT_FILE/],
  ];
  for (const [env, re] of cases) {
    const data = mkdtempSync(path.join(tmpdir(), 'isvc-tls-bad-'));
    const r = spawnSync(BIN, ['serve'], { env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: data, ...env }, encoding: 'utf8', timeout: 20000 });
    rmSync(data, { recursive: true, force: true });
    assert.equal(r.status, 2, `${JSON.stringify(env)}: ${r.stderr}${r.stdout.slice(0, 300)}`);
    assert.match(r.stderr, re);
  }
});
