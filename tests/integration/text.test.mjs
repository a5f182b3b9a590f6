// Display text (issue 11, part 7): bidi controls and other invisible format characters are
// stripped from title, description, altText, tags and originalFilename wherever they enter —
// multipart upload, PATCH, direct-upload start, JSON import — while ZWJ/ZWNJ and flag tag
// sequences survive; other control characters keep their 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Service } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { putObject } from './lib/store.mjs';

let svc, alice;
before(async () => {
  svc = await new Service().start();
  alice = svc.token('text-alice');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

const RLO = '\u202e';
const hidden = ['\u061c', '\u200b', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2060',
  '\u2061', '\u2062', '\u2063', '\u2064', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff', '\ufff9', '\ufffa', '\ufffb',
  '\u180e', '\u00ad'].join('');
const family = '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}';
const scotland = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
const persian = '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645';

const dirty = {
  title: `photo${RLO}gpj.exe ${family}`, description: `line 1${hidden}\nline 2 ${scotland}`,
  altText: `${hidden}alt ${persian}`, tags: [`sea${RLO}`, 'sea', hidden, scotland],
};
const clean = {
  title: `photogpj.exe ${family}`, description: `line 1\nline 2 ${scotland}`,
  altText: `alt ${persian}`, tags: ['sea', scotland],
};

// `multipart`: FormData sends line breaks as CRLF (the HTML form encoding), stored as sent.
function assertClean(img, multipart = false) {
  assert.equal(img.title, clean.title);
  assert.equal(img.description, multipart ? clean.description.replace('\n', '\r\n') : clean.description);
  assert.equal(img.altText, clean.altText);
  assert.deepEqual(img.tags, clean.tags);
  assert.equal(img.originalFilename, 'photogpj.exe');
}

test('multipart upload strips invisible characters and keeps joiners and flags', async () => {
  const r = await svc.upload(alice, makePng(120, 120, { seed: 1 }),
    { title: dirty.title, description: dirty.description, altText: dirty.altText, tags: JSON.stringify(dirty.tags) },
    `photo${RLO}gpj.exe`);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assertClean(r.json, true);
  assertClean((await svc.req('GET', `/images/${r.json.id}`, { token: alice })).json, true);
  // Searching by a tag with a hidden character finds the stored tag.
  const found = await svc.req('GET', `/images?tag=${encodeURIComponent(`s\u200bea`)}`, { token: alice });
  assert.equal(found.json.totalCount, 1);
});

test('PATCH strips them too; other control characters are still 400', async () => {
  const up = await svc.upload(alice, makePng(120, 120, { seed: 2 }));
  let r = await svc.req('PATCH', `/images/${up.json.id}`, { token: alice, body: {
    title: dirty.title, description: dirty.description, altText: dirty.altText, tags: dirty.tags, version: 1 } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.title, clean.title);
  assert.equal(r.json.description, clean.description);
  assert.equal(r.json.altText, clean.altText);
  assert.deepEqual(r.json.tags, clean.tags);
  for (const [field, value] of [['title', 'bell\u0007'], ['altText', 'a\nb'], ['title', 'line\u2028sep'], ['tags', ['a\u0000b']]]) {
    r = await svc.req('PATCH', `/images/${up.json.id}`, { token: alice, body: { [field]: value, version: 2 } });
    assert.equal(r.status, 400, `${field} ${JSON.stringify(value)}`);
    assert.equal(r.json.code, 'VALIDATION_FAILED');
    assert.equal(r.json.details.field, field);
  }
  // A description may hold line breaks, U+2028 included.
  r = await svc.req('PATCH', `/images/${up.json.id}`, { token: alice, body: { description: 'a\u2028b\nc\td', version: 2 } });
  assert.equal(r.status, 200);
  assert.equal(r.json.description, 'a\u2028b\nc\td');
});

test('direct-upload start strips them before the upload is stored', async () => {
  const png = makePng(130, 130, { seed: 3 });
  let r = await svc.req('POST', '/images/uploads', { token: alice, body: {
    filename: `photo${RLO}gpj.exe`, contentType: 'image/png', contentLength: png.length, ...dirty } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  await putObject(svc, `temp/${r.json.uploadId}`, png);
  r = await svc.req('POST', `/images/uploads/${r.json.uploadId}/complete`, { token: alice });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assertClean(r.json);
});

test('a JSON import strips them; control characters in a single-line field stay 400', async () => {
  const service = svc.token('legacy-api', 'service');
  const rec = { id: randomUUID(), userId: 'text-alice', s3Key: `legacy/text/${randomUUID()}.jpg`, originalFilename: `photo${RLO}gpj.exe`,
    mimeType: 'image/jpeg', fileSize: 10, createdAt: '2024-01-01T00:00:00Z', ...dirty };
  let r = await svc.req('POST', '/images', { token: service, body: rec });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assertClean(r.json);
  r = await svc.req('POST', '/images', { token: service, body: { ...rec, id: randomUUID(), s3Key: 'legacy/text/2.jpg', title: 'a\tb' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.details.field, 'title');
});
