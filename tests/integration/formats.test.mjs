// SUPPORTED_FORMATS governs what is accepted: a format that is not enabled is refused by its
// magic bytes (400 INVALID_FILE_TYPE naming the accepted formats) on multipart and direct
// uploads, and a direct upload cannot even be started for it. The default accepts all three.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { legitLosslessWebp, legitProgressiveJpeg } from './lib/bombs.mjs';

let jpegOnly, noJpeg, all, dir;
const files = {};
before(async () => {
  files.jpeg = legitProgressiveJpeg();  // 400x300
  files.png = makePng(200, 150, { seed: 21 });
  files.webp = legitLosslessWebp();  // 200x200
  dir = mkdtempSync(path.join(tmpdir(), 'isvc-formats-'));
  [jpegOnly, noJpeg, all] = await Promise.all([
    new Service({ SUPPORTED_FORMATS: 'jpeg' }).start(),
    new Service({ SUPPORTED_FORMATS: 'png, WEBP' }).start(),
    new Service().start(),
  ]);
});
after(async () => {
  for (const s of [jpegOnly, noJpeg, all]) if (s) assert.equal((await s.stop()).code, 0);
  rmSync(dir, { recursive: true, force: true });
});

function assertRefused(r, message) {
  assert.equal(r.status, 400, JSON.stringify(r.json));
  assert.equal(r.json.code, 'INVALID_FILE_TYPE');
  assert.equal(r.json.message, message);
  assert.equal(r.json.details.field, 'file');
}

test('SUPPORTED_FORMATS=jpeg: a JPEG is stored, a PNG and a WebP are refused', async () => {
  const token = jpegOnly.token('alice');
  const ok = await jpegOnly.upload(token, files.jpeg, {}, 'a.jpg');
  assert.equal(ok.status, 201, JSON.stringify(ok.json));
  assert.equal(ok.json.mimeType, 'image/jpeg');
  assert.deepEqual([ok.json.width, ok.json.height], [400, 300]);
  // Named as JPEGs: the bytes decide, not the name.
  assertRefused(await jpegOnly.upload(token, files.png, {}, 'b.jpg'), 'only JPEG images are accepted');
  assertRefused(await jpegOnly.upload(token, files.webp, {}, 'c.jpg'), 'only JPEG images are accepted');
  assertRefused(await jpegOnly.upload(token, Buffer.from('GIF89a not allowed')), 'only JPEG images are accepted');
  const list = await jpegOnly.req('GET', '/images', { token });
  assert.deepEqual(list.json.images.map((i) => i.id), [ok.json.id]);  // nothing else stored
});

test('SUPPORTED_FORMATS=png,webp refuses a JPEG and accepts the other two', async () => {
  const token = noJpeg.token('bob');
  assertRefused(await noJpeg.upload(token, files.jpeg, {}, 'a.jpg'), 'only PNG and WebP images are accepted');
  assert.equal((await noJpeg.upload(token, files.png)).status, 201);
  assert.equal((await noJpeg.upload(token, files.webp, {}, 'c.webp')).status, 201);
});

test('a direct upload cannot be started for a type that is not enabled, nor completed with its bytes', async () => {
  const token = jpegOnly.token('carol');
  const start = (contentType, contentLength) => jpegOnly.req('POST', '/images/uploads', {
    token, body: { filename: 'x', contentType, contentLength },
  });
  for (const type of ['image/png', 'image/webp']) {
    const r = await start(type, files.png.length);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.code, 'INVALID_FILE_TYPE');
    assert.equal(r.json.message, 'contentType must be image/jpeg');
    assert.equal(r.json.details.field, 'contentType');
  }
  // Declared as a JPEG, the bytes are a PNG: refused when completed, by their magic bytes.
  let r = await start('image/jpeg', files.png.length);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const file = path.join(dir, 'png-as-jpeg');
  writeFileSync(file, files.png);
  const put = execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', file,
    '-H', 'Content-Type: image/jpeg', r.json.uploadUrl]).toString();
  assert.equal(put, '200');
  r = await jpegOnly.req('POST', `/images/uploads/${r.json.uploadId}/complete`, { token });
  assertRefused(r, 'only JPEG images are accepted');

  const other = await noJpeg.req('POST', '/images/uploads', {
    token: noJpeg.token('carol'), body: { filename: 'x', contentType: 'image/jpeg', contentLength: 10 },
  });
  assert.equal(other.status, 400);
  assert.equal(other.json.message, 'contentType must be image/png or image/webp');
});

test('by default JPEG, PNG and WebP are all accepted, on both upload paths', async () => {
  const token = all.token('dave');
  for (const [kind, name] of [['jpeg', 'a.jpg'], ['png', 'b.png'], ['webp', 'c.webp']]) {
    const r = await all.upload(token, files[kind], {}, name);
    assert.equal(r.status, 201, `${kind}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.mimeType, `image/${kind}`);
    const s = await all.req('POST', '/images/uploads', {
      token, body: { filename: name, contentType: `image/${kind}`, contentLength: files[kind].length },
    });
    assert.equal(s.status, 201, `${kind}: ${JSON.stringify(s.json)}`);
  }
  const r = await all.upload(token, Buffer.from('GIF89a not allowed'));
  assertRefused(r, 'only JPEG, PNG and WebP images are accepted');
});
