// libvips/GLib messages are lines of the JSON log (event vips_message) that carry the request id
// of the upload that caused them, never plain text on stderr; a profile that cannot be used is
// logged (icc_profile_ignored). Files that make libvips warn are built here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { MISSING_TOOLS, encodeJpeg } from './lib/decode.mjs';
import { pngChunk as chunk, makePng } from './lib/png.mjs';
import { Service } from './lib/server.mjs';

let svc, token;
before(async () => {
  svc = await new Service().start();
  token = svc.token('log-user');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

// A PNG whose iCCP chunk is too short to be a profile: libpng warns while reading the header,
// in the header probe (the request's thread) and in the processing job.
function pngWithBrokenIccp(seed) {
  const png = makePng(300, 200, { seed });
  const iccp = chunk('iCCP', Buffer.concat([Buffer.from('bad\0\0', 'latin1'), deflateSync(Buffer.alloc(60, 7))]));
  return Buffer.concat([png.subarray(0, 33), iccp, png.subarray(33)]);  // after the signature and IHDR
}

// A PNG cut short inside IDAT: the header is fine, the full decode (on libvips' worker threads)
// warns, and the upload is refused.
// A PNG whose chunk structure is intact (the container walker passes it) but whose compressed
// pixel data is damaged part-way: libvips' worker threads hit it while decoding and warn. (A
// plainly truncated file is refused by the walker before libvips sees it.)
function truncatedPng(seed) {
  const png = Buffer.from(makePng(600, 400, { seed }));
  const out = [png.subarray(0, 8)];
  for (let off = 8; off < png.length;) {
    const len = png.readUInt32BE(off);
    const type = png.subarray(off + 4, off + 8).toString('latin1');
    const data = Buffer.from(png.subarray(off + 8, off + 8 + len));
    if (type === 'IDAT') for (let i = Math.floor(len * 0.6); i < Math.min(len, Math.floor(len * 0.6) + 64); i++) data[i] ^= 0x5a;
    out.push(chunk(type, data));
    off += 12 + len;
  }
  return Buffer.concat(out);
}

async function upload(bytes, name, requestId) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const r = await svc.req('POST', '/images', { token, body: form, headers: { 'x-request-id': requestId } });
  assert.equal(r.headers.get('x-request-id'), requestId);
  return r;
}

const logLines = () => svc.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));

// Log lines can reach the pipe just after the response: wait for them, with a deadline.
async function waitForLines(pred, what, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = logLines().filter(pred);
    if (found.length) return found;
    if (Date.now() > deadline) throw new Error(`no log line ${what} within ${ms} ms:\n${svc.stdout.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a warning while reading the header is a JSON line with the upload\'s request id', async () => {
  const r = await upload(pngWithBrokenIccp(1), 'bad-iccp.png', 'vipslog-iccp-1');
  assert.equal(r.status, 201);
  const lines = await waitForLines((l) => l.event === 'vips_message' && l.requestId === 'vipslog-iccp-1', 'for vipslog-iccp-1');
  for (const l of lines) {
    assert.equal(l.level, 'warn');
    assert.equal(l.glibLevel, 'warning');
    assert.equal(l.domain, 'VIPS');
    assert.match(l.message, /iCCP/);
    assert.match(l.timestamp, /^\d{4}-\d\d-\d\dT/);
  }
  // Both the header probe and the processing job read the header: neither line is anonymous.
  assert.deepEqual(logLines().filter((l) => l.event === 'vips_message' && /iCCP/.test(l.message) && !l.requestId), []);
});

test('a warning from libvips\' worker threads names the only upload in flight', async () => {
  const r = await upload(truncatedPng(2), 'truncated.png', 'vipslog-trunc-1');
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_IMAGE');
  assert.equal(r.json.requestId, 'vipslog-trunc-1');
  // libpng warns about the filter byte before it reports the missing data, and the two lines
  // can reach the pipe in separate writes: wait for the one this test is about.
  const truncation = /not enough data|error in tile|read error|truncat/i;
  const lines = await waitForLines(
    (l) => l.event === 'vips_message' && l.requestId === 'vipslog-trunc-1' && truncation.test(l.message),
    'about the truncation for vipslog-trunc-1',
  );
  assert.ok(lines.length >= 1);
});

test('an ICC profile lcms cannot parse is ignored, and that is logged with the request id', { skip: MISSING_TOOLS.includes('cjpeg') && 'needs cjpeg' }, async () => {
  const img = { width: 200, height: 150, data: new Uint8Array(200 * 150 * 4).fill(200) };
  const r = await upload(encodeJpeg(img, { icc: Buffer.alloc(300, 0x55) }), 'garbage-icc.jpg', 'vipslog-icc-1');
  assert.equal(r.status, 201);
  const [line] = await waitForLines((l) => l.event === 'icc_profile_ignored' && l.requestId === 'vipslog-icc-1', 'icc_profile_ignored');
  assert.equal(line.level, 'warn');
  assert.match(line.reason, /lcms cannot parse the profile/);
});

test('concurrent uploads: a message names its own upload, or lists the candidates, never another', async () => {
  const ids = Array.from({ length: 4 }, (_, i) => `vipslog-conc-${i}`);
  const rs = await Promise.all(ids.map((id, i) =>
    i % 2 ? upload(truncatedPng(10 + i), `t${i}.png`, id) : upload(pngWithBrokenIccp(10 + i), `b${i}.png`, id)));
  assert.deepEqual(rs.map((r) => r.status), [201, 400, 201, 400]);
  // Header warnings come from each upload's own threads: each of those is named exactly.
  for (const id of ids.filter((_, i) => i % 2 === 0))
    await waitForLines((l) => l.event === 'vips_message' && l.requestId === id && /iCCP/.test(l.message), `iCCP for ${id}`);
  for (const id of ids.filter((_, i) => i % 2 === 1))
    await waitForLines((l) => l.event === 'vips_message' && (l.requestId === id || l.requestIdCandidates?.includes(id)), `for ${id}`);
  for (const l of logLines().filter((x) => x.event === 'vips_message' && ids.some((id) => x.requestId === id || x.requestIdCandidates?.includes(id)))) {
    if (l.requestId) {
      assert.ok(ids.includes(l.requestId), JSON.stringify(l));
      // A header warning is never put on an upload whose header was fine, nor the other way.
      const i = ids.indexOf(l.requestId);
      assert.equal(/iCCP/.test(l.message), i % 2 === 0, JSON.stringify(l));
    } else {
      assert.ok(l.requestIdCandidates.length >= 2 && l.requestIdCandidates.every((c) => c.startsWith('vipslog-')), JSON.stringify(l));
    }
  }
});

test('stdout is one JSON object per line and GLib writes nothing to stderr', async () => {
  await upload(truncatedPng(3), 'truncated.png', 'vipslog-final');
  await waitForLines((l) => l.requestId === 'vipslog-final' && l.event === 'http_request', 'http_request');
  const lines = svc.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 10);
  for (const line of lines) {
    const j = JSON.parse(line);
    assert.equal(typeof j, 'object');
    assert.ok(j.event && j.level && j.timestamp, line);
  }
  assert.doesNotMatch(svc.stderr, /WARNING|CRITICAL|VIPS|GLib/);
});
