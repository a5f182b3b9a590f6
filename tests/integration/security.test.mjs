// Hostile requests (SPEC §3, §4, §12): every JWT attack of SPEC §3 is a 401, path traversal
// never leaves the store, header injection through file names goes nowhere, oversized headers
// and absurd query values get clean 4xx answers, and a slowloris client is cut off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service, signHs256 } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';

const ISS = 'https://issuer.example', AUD = 'image-service';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
let svc, dir;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isvc-sec-'));
  const jwks = { keys: [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ] };
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks));
  svc = await new Service({
    JWT_JWKS_FILE: path.join(dir, 'jwks.json'), JWT_ISSUER: ISS, JWT_AUDIENCE: `${AUD},other-client`,
    HEADER_TIMEOUT_S: '1',
  }).start();
});
after(async () => {
  if (svc) assert.equal((await svc.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
function signAsym(alg, key, claims, header = {}) {
  const input = `${b64({ alg, typ: 'JWT', ...header })}.${b64(claims)}`;
  const s = createSign('SHA256');
  s.update(input);
  const sig = alg === 'ES256' ? s.sign({ key, dsaEncoding: 'ieee-p1363' }) : s.sign(key);
  return `${input}.${sig.toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const good = () => ({ sub: 'sec-user', iss: ISS, aud: AUD, exp: now() + 600, iat: now() });
const tok = (sub, role) => svc.token(sub, role, { iss: ISS, aud: AUD });

test('valid RS256, ES256 and HS256 tokens pass (the control for the attacks below)', async () => {
  for (const token of [
    signAsym('RS256', rsa.privateKey, good(), { kid: 'rsa-1' }),
    signAsym('ES256', ec.privateKey, good(), { kid: 'ec-1' }),
    signHs256(svc.secret, good()),
    signHs256(svc.secret, { ...good(), aud: undefined, client_id: 'other-client' }),  // Cognito access token
  ]) assert.equal((await svc.req('GET', '/images', { token })).status, 200, token);
});

test('every JWT attack of SPEC §3 is refused with 401', async () => {
  const rsaPem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
  const attacks = {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(good())}.`,
    'alg none with a signature': `${b64({ alg: 'none' })}.${b64(good())}.${b64('x')}`,
    'algorithm confusion: HS256 signed with the RSA public key': signHs256(rsaPem, good(), { alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }),
    'RS256 signed by another key': signAsym('RS256', otherRsa.privateKey, good(), { kid: 'rsa-1' }),
    'RS256 with an unknown kid': signAsym('RS256', rsa.privateKey, good(), { kid: 'nope' }),
    'ES256 key under the RSA kid': signAsym('ES256', ec.privateKey, good(), { kid: 'rsa-1' }),
    'RS512 (not accepted)': (() => { const t = signAsym('RS256', rsa.privateKey, good(), { kid: 'rsa-1' }).split('.'); t[0] = b64({ alg: 'RS512', kid: 'rsa-1' }); return t.join('.'); })(),
    'missing sub': signHs256(svc.secret, { ...good(), sub: undefined }),
    'empty sub': signHs256(svc.secret, { ...good(), sub: '' }),
    'expired beyond the leeway': signHs256(svc.secret, { ...good(), exp: now() - 61 }),
    'no exp': signHs256(svc.secret, { ...good(), exp: undefined }),
    'nbf in the future': signHs256(svc.secret, { ...good(), nbf: now() + 120 }),
    'iat in the future': signHs256(svc.secret, { ...good(), iat: now() + 120 }),
    'wrong issuer': signHs256(svc.secret, { ...good(), iss: 'https://evil.example' }),
    'wrong audience': signHs256(svc.secret, { ...good(), aud: 'someone-else' }),
    'payload swapped under a valid signature': (() => { const t = signHs256(svc.secret, good()).split('.'); t[1] = b64({ ...good(), sub: 'admin', role: 'admin' }); return t.join('.'); })(),
    'two dots only': '..',
    'not base64': 'a$b.c$d.e$f',
    'Basic instead of Bearer': null,
  };
  for (const [name, token] of Object.entries(attacks)) {
    const headers = token === null ? { authorization: 'Basic YWxpY2U6cGFzcw==' } : {};
    const r = await svc.req('GET', '/images', { token: token ?? undefined, headers });
    assert.equal(r.status, 401, name);
    assert.equal(r.json.code, 'UNAUTHORIZED', name);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer', name);
  }
});

test('path traversal: file keys, image ids, user ids and file names never reach outside the store', async () => {
  const token = tok('..');
  const up = await svc.upload(token, makePng(120, 120), {}, '../../../etc/passwd');
  assert.equal(up.status, 201);
  assert.equal(up.json.originalFilename, 'passwd');  // directories dropped; never used as a path
  // The key holds "%2E%2E" (SPEC §12), which the URL carries percent-encoded once more.
  assert.match(up.json.imageUrl, /\/files\/images\/%252E%252E\/[0-9A-Z]{26}\.webp$/);
  assert.equal((await fetch(up.json.imageUrl)).status, 200);
  for (const p of ['/files/../m.db', '/files/..%2fm.db', '/files/images/..%2F..%2Fm.db', '/files/%2e%2e/%2e%2e/etc/passwd',
    '/files/images/%2E%2E/..%5C..%5Cm.db', '/files//etc/passwd', '/files/images/x%00.webp']) {
    const r = await fetch(svc.base + p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    assert.ok(!(await r.text()).includes('SQLite'), p);
  }
  for (const id of ['..%2F..%2Fetc', '..%5C..%5Cetc', 'x'.repeat(300)]) {
    const r = await svc.req('GET', `/images/${id}`, { token });
    assert.equal(r.status, 400, `${id}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.code, 'INVALID_IMAGE_ID');
  }
  // Someone else's user id with dots is just another user: 403.
  assert.equal((await svc.req('DELETE', '/users/..%2F..%2Fsec-user/images', { token: tok('sec-user') })).status, 403);
});

test('header injection through a file name goes nowhere; the name comes back escaped', async () => {
  const boundary = 'x-boundary-7';
  const png = makePng(120, 120);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png\r\nSet-Cookie: injected=1"\r\nContent-Type: image/png\r\n\r\n`),
    png, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const r = await svc.req('POST', '/images', { token: tok('sec-user'), body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  assert.ok(r.status === 400 || r.status === 201, String(r.status));
  assert.equal(r.headers.get('set-cookie'), null);
  if (r.status === 201) assert.ok(!r.json.originalFilename.includes('\r'));
  // A name with quotes, control bytes and non-UTF-8 bytes is stored as data and rendered as
  // valid JSON.
  const weird = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="q\\"\u0001`), Buffer.from([0xc7, 0x31]),
    Buffer.from(`.png"\r\n\r\n`), png, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const w = await svc.req('POST', '/images', { token: tok('sec-user'), body: weird, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  assert.ok(w.status === 201 || w.status === 400, String(w.status));
  assert.ok(w.json, 'the body parses as JSON');
});

test('oversized headers and absurd query values get 4xx, never 5xx, and the server keeps serving', async () => {
  const token = tok('sec-user');
  const huge = await new Promise((resolve) => {
    const s = net.connect(svc.port, '127.0.0.1', () => {
      s.write(`GET /images HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(128 * 1024)}\r\n\r\n`);
    });
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
  });
  assert.match(huge.split('\r\n')[0], /^HTTP\/1\.1 4(31|00|13)/, huge.slice(0, 200));
  const cases = {
    'limit=99999999999999999999999': 'VALIDATION_FAILED', 'limit=-1': 'VALIDATION_FAILED', 'limit=abc': 'VALIDATION_FAILED',
    'limit=1e3': 'VALIDATION_FAILED', 'sortOrder=sideways': 'VALIDATION_FAILED', [`cursor=${'A'.repeat(5000)}`]: 'INVALID_CURSOR',
    'cursor=%00%01': 'INVALID_CURSOR', 'limit=5&limit=6': null, [`tag=${'t'.repeat(10000)}`]: null, 'albumId=%00': null, '%zz=1': null,
  };
  for (const [q, code] of Object.entries(cases)) {
    const r = await svc.req('GET', `/images?${q}`, { token });
    assert.ok(r.status < 500, `${q.slice(0, 40)}: ${r.status}`);
    if (code) {
      assert.equal(r.status, 400, q.slice(0, 40));
      assert.equal(r.json.code, code, q.slice(0, 40));
    }
  }
  assert.equal((await svc.req('GET', '/images', { token })).status, 200);
});

test('slowloris: a client that never finishes its headers is disconnected after HEADER_TIMEOUT_S', async () => {
  const started = Date.now();
  const closed = await new Promise((resolve) => {
    const s = net.connect(svc.port, '127.0.0.1', () => s.write('GET /images HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    const timer = setInterval(() => { if (!s.destroyed) s.write('a'); }, 200);  // a byte now and then
    s.on('close', () => { clearInterval(timer); resolve(true); });
    s.on('error', () => {});
    setTimeout(() => { clearInterval(timer); s.destroy(); resolve(false); }, 10000);
  });
  assert.ok(closed, 'still connected after 10 s');
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('the connection limit: past MAX_CONNECTIONS a request gets 503 + Retry-After and the connection closes (probes excepted)', async () => {
  const small = await new Service({ MAX_CONNECTIONS: '3' }).start();
  const open = [];
  try {
    for (let i = 0; i < 3; i++) {
      const s = net.connect(small.port, '127.0.0.1');
      await new Promise((resolve) => s.on('connect', resolve));
      s.on('error', () => {});
      open.push(s);
    }
    const answer = await new Promise((resolve) => {
      // /health and /metrics are still served from the probe reserve (hostile-slow.test.mjs).
      const s = net.connect(small.port, '127.0.0.1', () => s.write('GET /api-docs HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    });
    assert.match(answer.split('\r\n')[0], /^HTTP\/1\.1 503/, answer.slice(0, 300));
    assert.match(answer, /\r\nretry-after: 1\r\n/i);
    assert.match(answer, /"code":"SERVICE_UNAVAILABLE"/);
    for (const s of open.splice(0)) s.destroy();
    // Once the idle connections are gone, requests are served again.
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) ok = (await fetch(`${small.base}/api-docs`).catch(() => ({ status: 0 }))).status === 200;
    assert.ok(ok);
  } finally {
    for (const s of open) s.destroy();
    assert.equal((await small.stop()).code, 0);
  }
});
