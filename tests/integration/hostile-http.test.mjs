// HTTP strictness (RFC 9112/9110, issue 11 part 5) against the real service: ambiguous transfer
// codings are refused and the connection closed, so a smuggled second request is never
// answered; Host and Authorization must not be missing or repeated; absolute-form targets work;
// HEAD is answered on every GET route; ranges past the object are clamped or 416; an upload is
// refused from its head (no body byte read), and multipart without a boundary is a 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { connect } from './lib/raw.mjs';

let svc, token, image;
before(async () => {
  svc = await new Service({ STAGE: 'production' }).start();
  token = svc.token('http-user');
  const r = await svc.upload(token, makePng(160, 120), {}, 'p.png');
  assert.equal(r.status, 201);
  image = r.json;
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

// Sends `raw` on a fresh connection; returns every response and whether the server closed.
async function exchange(raw, { waitClose = true } = {}) {
  const c = await connect(svc.port);
  await c.write(raw);
  await c.response(1);
  if (waitClose) await c.waitClosed(5000);
  const out = { responses: c.responses(), closed: c.closed, text: c.text() };
  c.destroy();
  return out;
}

const smuggled = 'GET /api-docs HTTP/1.1\r\nHost: x\r\n\r\n';

test('ambiguous Transfer-Encoding: 400 (or 501), connection closed, the smuggled request never answered', async () => {
  const cases = [
    ['chunked, identity', 400], ['identity', 400], ['xchunked', 400], ['chunked, chunked', 400],
    ['chunked;ext=1', 400], ['gzip, chunked', 501], ['deflate, chunked', 501],
  ];
  for (const [te, status] of cases) {
    const r = await exchange(`GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n${smuggled}`);
    assert.equal(r.responses.length, 1, `${te}: ${r.text.slice(0, 400)}`);
    assert.equal(r.responses[0].status, status, te);
    assert.equal(JSON.parse(r.responses[0].body).code, status === 501 ? 'NOT_IMPLEMENTED' : 'BAD_REQUEST', te);
    assert.equal(r.responses[0].headers.connection, 'close', te);
    assert.ok(r.closed, `${te}: connection left open`);
    assert.equal(r.text.indexOf('openapi'), -1, `${te}: the smuggled request was answered`);
  }
  // Two Transfer-Encoding lines, and Transfer-Encoding with Content-Length.
  for (const raw of [
    `POST /images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    `POST /images HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    `POST /images HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  ]) {
    const r = await exchange(raw);
    assert.deepEqual(r.responses.map((x) => x.status), [400], raw);
    assert.ok(r.closed);
  }
  // The control: plain chunked framing still works, with keep-alive and a pipelined request.
  const c = await connect(svc.port);
  await c.write(`POST /dev/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
  await c.response(2);
  assert.deepEqual(c.responses().map((x) => x.status), [404, 200]);  // /dev/token is off in production
  c.destroy();
});

test('Host: exactly one in HTTP/1.1; Authorization never twice', async () => {
  for (const raw of [
    'GET /health HTTP/1.1\r\n\r\n',
    'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    `GET /images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${svc.token('someone-else')}\r\n\r\n`,
    `GET /images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  ]) {
    const r = await exchange(raw);
    assert.deepEqual(r.responses.map((x) => x.status), [400], raw.slice(0, 60));
    assert.equal(JSON.parse(r.responses[0].body).code, 'BAD_REQUEST');
    assert.ok(r.closed);
  }
  const ok = await exchange('GET /health HTTP/1.0\r\n\r\n');
  assert.deepEqual(ok.responses.map((x) => x.status), [200]);
});

test('absolute-form request-targets are served like origin-form', async () => {
  const r = await exchange(`GET http://127.0.0.1:${svc.port}/images/${image.id}?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`, { waitClose: false });
  assert.equal(r.responses[0].status, 200);
  assert.equal(JSON.parse(r.responses[0].body).id, image.id);
  const bad = await exchange('GET ftp://x/health HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(bad.responses.map((x) => x.status), [400]);
});

test('HEAD is answered on every GET route, with the GET headers and no body', async () => {
  const paths = [`/images/${image.id}`, '/images', '/api-docs', '/health', '/metrics', '/', '/swagger',
    `/files/${image.s3Key}`];
  for (const p of paths) {
    const get = await fetch(svc.base + p, { headers: { authorization: `Bearer ${token}` } });
    const getBody = Buffer.from(await get.arrayBuffer());
    const c = await connect(svc.port);
    await c.write(`HEAD ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
    await c.until(() => /HTTP\/1\.1 200[^]*HTTP\/1\.1 200/.test(c.text()), 5000, `HEAD ${p} then GET`);
    const [head] = c.text().split('\r\n\r\n');
    c.destroy();
    assert.match(head, /^HTTP\/1\.1 200/, p);
    assert.equal(get.status, 200, p);
    const cl = Number(/content-length: (\d+)/i.exec(head)?.[1]);
    if (p !== '/metrics' && p !== '/health') assert.equal(cl, getBody.length, p);  // live values differ
    assert.match(head, new RegExp(`content-type: ${get.headers.get('content-type').replace(/[+.]/g, '\\$&')}`, 'i'), p);
    // The next bytes after the HEAD response's headers are the next response, not a body.
    assert.ok(c.text().split('\r\n\r\n')[1].startsWith('HTTP/1.1 200'), p);
  }
});

test('Range: an end past the object is clamped (206), a start past it is 416', async () => {
  const url = `${svc.base}/files/${image.s3Key}`;
  const size = image.processedSize;
  let r = await fetch(url, { headers: { range: 'bytes=0-18446744073709551615' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 0-${size - 1}/${size}`);
  assert.equal((await r.arrayBuffer()).byteLength, size);
  r = await fetch(url, { headers: { range: 'bytes=10-99999999999999999999999' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 10-${size - 1}/${size}`);
  for (const range of [`bytes=${size}-`, 'bytes=18446744073709551616-', `bytes=${size + 5}-${size + 10}`]) {
    r = await fetch(url, { headers: { range } });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get('content-range'), `bytes */${size}`, range);
    assert.equal((await r.json()).code, 'RANGE_NOT_SATISFIABLE');
  }
});

test('an upload is judged on its head: 401, 413, 415 and 400 arrive before any body byte is sent', async () => {
  const head = (headers) => `POST /images HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: 5000000\r\n\r\n`;
  const cases = [
    [head('Content-Type: multipart/form-data; boundary=b\r\n'), 401, 'UNAUTHORIZED'],
    [head(`Authorization: Bearer ${token}\r\nContent-Type: text/plain\r\n`), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [head(`Authorization: Bearer ${token}\r\nContent-Type: multipart/form-data\r\n`), 400, 'VALIDATION_FAILED'],
    [head(`Authorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary="unterminated\r\n`), 400, 'VALIDATION_FAILED'],
    [`POST /images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 99000000\r\n\r\n`, 413, 'FILE_TOO_LARGE'],
    [head(`Authorization: Bearer ${svc.token('svc', 'user')}\r\nContent-Type: application/json\r\n`), 403, 'NOT_AUTHORIZED'],
  ];
  for (const [raw, status, code] of cases) {
    const c = await connect(svc.port);
    await c.write(raw);
    const r = await c.response(1, 2000);  // no body byte was sent
    assert.equal(r?.status, status, raw.slice(0, 120));
    const body = JSON.parse(r.body);
    assert.equal(body.code, code);
    if (code === 'VALIDATION_FAILED') assert.equal(body.details.field, 'file');
    assert.equal(r.headers.connection, 'close');
    c.destroy();
  }
  // Expect: 100-continue is answered with the refusal, never with 100.
  const c = await connect(svc.port);
  await c.write('POST /images HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000000\r\n\r\n');
  const r = await c.response(1, 2000);
  assert.equal(r.status, 401);
  assert.doesNotMatch(c.text(), /HTTP\/1\.1 100/);
  c.destroy();
});

test('multipart/form-data without a boundary through fetch is 400 VALIDATION_FAILED naming file', async () => {
  const r = await svc.req('POST', '/images', { token, body: 'x', headers: { 'content-type': 'multipart/form-data' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'VALIDATION_FAILED');
  assert.equal(r.json.details.field, 'file');
});
