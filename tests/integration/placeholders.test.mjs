// Placeholders (issue 13): the ThumbHash equals npm thumbhash's for the very same pixels on the
// corpora (or on generated PNGs without them), uploads return it with the dominant colour, list
// items carry both, and imported records get them from `image-service backfill-placeholders`,
// which a second run finds nothing left for — in whichever mode the suite runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { rgbaToThumbHash } from '../tools/node_modules/thumbhash/thumbhash.js';
import { BIN, HAVE_TESTDATA, Service, TESTDATA } from './lib/server.mjs';
import { makePng, pngChunk } from './lib/png.mjs';
import { HAVE_POSTGRES, LEGACY_SCHEMA, startPostgres } from './lib/postgres.mjs';
import { putObject } from './lib/store.mjs';
import { runTool } from './lib/tool.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOOL = process.env.ISVC_THUMBHASH_TOOL || path.join(path.dirname(BIN), 'tests/isvc_thumbhash_tool');
const REALWORLD = process.env.ISVC_REALWORLD || path.resolve(TESTDATA, '../realworld/images');
const HAVE_REALWORLD = existsSync(path.join(REALWORLD, '../SOURCES.tsv'));

// An RGB PNG of one colour.
function solidPng(width, height, [r, g, b]) {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.concat(Array(height).fill(row)))), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function npmHash(width, height, rgba) {
  return Buffer.from(rgbaToThumbHash(width, height, rgba)).toString('base64');
}

// The tool's JSON line per file: the pixels the placeholders came from and ours.
function runThumbhashTool(files, stored = false) {
  const r = spawnSync(TOOL, [...(stored ? ['--stored'] : []), ...files], { timeout: 300000, maxBuffer: 1 << 28 });
  assert.equal(r.error, undefined, String(r.error));
  return r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
}

// What the corpora hold that the service accepts; generated PNGs of several shapes without them.
function corpusFiles() {
  const files = [];
  if (HAVE_TESTDATA) {
    const bad = /^(bomb|corrupt|empty|html_|over_limit|pdf_|text_|too_|truncated|vector|anim|photo\.(avif|bmp|tiff))/;
    for (const f of readdirSync(TESTDATA).sort())
      if (/\.(png|jpe?g|webp)$/.test(f) && !bad.test(f)) files.push(path.join(TESTDATA, f));
  }
  if (HAVE_REALWORLD) {
    const lines = readFileSync(path.join(here, 'realworld.tsv'), 'utf8').trim().split('\n').slice(1);
    for (const l of lines) {
      const [file, status] = l.split('\t');
      if (status === '201') files.push(path.join(REALWORLD, file));
    }
  }
  return files;
}

let generatedDir;
function generatedFiles() {
  generatedDir = mkdtempSync(path.join(tmpdir(), 'isvc-th-'));
  const shapes = [[100, 100], [640, 480], [480, 640], [1000, 120], [120, 1000], [333, 777], [2500, 1400],
    [101, 3000], [4000, 150], [257, 263]];
  const files = [];
  shapes.forEach(([w, h], i) => {
    for (const alpha of [false, true]) {
      const f = path.join(generatedDir, `g${i}-${alpha ? 'a' : 'o'}.png`);
      writeFileSync(f, makePng(w, h, { alpha, seed: i * 7 + 1 }));
      files.push(f);
    }
  });
  for (const [i, c] of [[0, [37, 99, 180]], [1, [255, 255, 255]], [2, [0, 0, 0]], [3, [250, 10, 128]]].entries()) {
    const f = path.join(generatedDir, `solid${i}.png`);
    writeFileSync(f, solidPng(300 + 100 * i, 200, c[1]));
    files.push(f);
  }
  return files;
}
after(() => { if (generatedDir) rmSync(generatedDir, { recursive: true, force: true }); });

function checkAgainstNpm(lines, minimum) {
  const ok = lines.filter((l) => !l.error);
  assert.ok(ok.length >= minimum, `only ${ok.length} images processed:\n${lines.filter((l) => l.error).map((l) => `${l.file}: ${l.error}`).join('\n')}`);
  for (const l of ok) {
    assert.ok(l.width >= 1 && l.width <= 100 && l.height >= 1 && l.height <= 100, l.file);
    const rgba = Buffer.from(l.rgba, 'base64');
    assert.equal(rgba.length, l.width * l.height * 4, l.file);
    assert.equal(l.thumbhash, npmHash(l.width, l.height, rgba), `${l.file} (${l.width}x${l.height})`);
    // A colour unless every pixel is transparent (the corpus has such a PNG).
    const visible = rgba.some((v, i) => i % 4 === 3 && v > 0);
    if (visible) assert.match(l.dominantColor ?? '', /^#[0-9a-f]{6}$/, l.file);
    else assert.equal(l.dominantColor, undefined, l.file);
  }
  return ok.length;
}

test('our ThumbHash equals npm thumbhash byte for byte on the pixels the upload computes it from', async (t) => {
  const corpus = corpusFiles();
  const files = corpus.length >= 20 ? corpus : generatedFiles();
  const n = checkAgainstNpm(runThumbhashTool(files), 20);
  t.diagnostic(`${n} images (${corpus.length >= 20 ? 'corpora' : 'generated PNGs'})`);
});

test('the backfill decode (a stored image read back, e.g. a legacy original) agrees with npm thumbhash too', async (t) => {
  const corpus = corpusFiles();
  const files = corpus.length >= 20 ? corpus
    : generatedDir ? readdirSync(generatedDir).map((f) => path.join(generatedDir, f)) : generatedFiles();
  const n = checkAgainstNpm(runThumbhashTool(files, true), 20);
  t.diagnostic(`${n} images (${corpus.length >= 20 ? 'corpora' : 'generated PNGs'})`);
});

let svc, alice, service;
before(async () => {
  svc = await new Service().start();
  alice = svc.token('placeholder-user');
  service = svc.token('legacy-api', 'service');
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

// 400x200 in one colour: the placeholder pixels are 100x50 of exactly that colour.
const SOLID = [37, 99, 180];
const solidRgba = (w, h) => Buffer.concat(Array(w * h).fill(Buffer.from([...SOLID, 255])));
const SOLID_HASH = npmHash(100, 50, solidRgba(100, 50));

test('an upload returns the ThumbHash and dominant colour; GET and list items carry them', async () => {
  const up = await svc.upload(alice, solidPng(400, 200, SOLID), {}, 'solid.png');
  assert.equal(up.status, 201, JSON.stringify(up.json));
  assert.equal(up.json.thumbhash, SOLID_HASH);
  assert.equal(up.json.dominantColor, '#2563b4');

  const got = await svc.req('GET', `/images/${up.json.id}`, { token: alice });
  assert.equal(got.status, 200);
  assert.equal(got.json.thumbhash, SOLID_HASH);
  assert.equal(got.json.dominantColor, '#2563b4');

  const other = await svc.upload(alice, makePng(300, 200, { seed: 4 }), {}, 'gradient.png');
  assert.equal(other.status, 201);
  const list = await svc.req('GET', '/images?limit=10', { token: alice });
  assert.equal(list.status, 200);
  const byId = Object.fromEntries(list.json.images.map((i) => [i.id, i]));
  assert.equal(byId[up.json.id].thumbhash, SOLID_HASH);
  assert.equal(byId[up.json.id].dominantColor, '#2563b4');
  assert.equal(byId[other.json.id].thumbhash, other.json.thumbhash);
  assert.equal(byId[other.json.id].dominantColor, other.json.dominantColor);
  assert.notEqual(other.json.thumbhash, SOLID_HASH);
});

function backfill(...args) {
  const env = { ...process.env, DATA_DIR: svc.dataDir, JWT_SECRET: svc.secret, ...svc.backend };
  return runTool(['backfill-placeholders', '--json', ...args], env).then((r) => {
    assert.equal(r.err, '');
    return { code: r.code, report: JSON.parse(r.out) };
  });
}

test('an imported record has none until backfill-placeholders runs; then it has them; a second run does nothing', async () => {
  const user = 'legacy-owner';
  const owner = svc.token(user);
  const key = `gallery/${user}/solid.png`;
  await putObject(svc, key, solidPng(400, 200, SOLID));
  const rec = {
    id: randomUUID(), userId: user, s3Key: key, originalFilename: 'solid.png', mimeType: 'image/png',
    fileSize: 1234, width: 400, height: 200, createdAt: '2023-04-01T10:00:00.000Z',
  };
  const missingKey = `gallery/${user}/gone.png`;
  const gone = { ...rec, id: randomUUID(), s3Key: missingKey, originalFilename: 'gone.png' };
  for (const r of [rec, gone]) {
    const imp = await svc.req('POST', '/images', { token: service, body: r });
    assert.ok([200, 201].includes(imp.status), JSON.stringify(imp.json));
    assert.equal(imp.json.thumbhash, undefined);
    assert.equal(imp.json.dominantColor, undefined);
  }
  // Read once: in distributed mode the record is now in the Redis cache without placeholders.
  let got = await svc.req('GET', `/images/${rec.id}`, { token: owner });
  assert.equal(got.status, 200);
  assert.equal(got.json.thumbhash, undefined);
  const version = got.json.version;

  let r = await backfill('--dry-run');
  assert.equal(r.code, 1, JSON.stringify(r.report));  // the record whose main image is gone
  assert.equal(r.report.filled, 1);
  assert.equal(r.report.noSource, 1);
  assert.deepEqual(r.report.noSourceIds, [gone.id]);
  got = await svc.req('GET', `/images/${rec.id}`, { token: owner });
  assert.equal(got.json.thumbhash, undefined);
  assert.equal(got.json.version, version);

  r = await backfill();
  assert.equal(r.code, 1, JSON.stringify(r.report));
  assert.deepEqual([r.report.lacking, r.report.filled, r.report.noSource, r.report.failed, r.report.conflicts],
    [2, 1, 1, 0, 0]);
  got = await svc.req('GET', `/images/${rec.id}`, { token: owner });
  assert.equal(got.status, 200);
  assert.equal(got.json.thumbhash, SOLID_HASH);  // the same pixels as an upload of that PNG
  assert.equal(got.json.dominantColor, '#2563b4');
  assert.equal(got.json.version, version + 1);
  assert.equal(got.json.updatedAt, '2023-04-01T10:00:00.000Z');  // derived data, not an edit
  const list = await svc.req('GET', '/images', { token: owner });
  assert.equal(list.json.images.find((i) => i.id === rec.id).thumbhash, SOLID_HASH);

  // Resumable: the filled record is skipped; once the missing object is there, it is filled too.
  await putObject(svc, missingKey, makePng(640, 480, { seed: 9 }));
  r = await backfill('--limit', '5');
  assert.equal(r.code, 0, JSON.stringify(r.report));
  assert.deepEqual([r.report.lacking, r.report.filled, r.report.noSource], [1, 1, 0]);
  r = await backfill();
  assert.equal(r.code, 0, JSON.stringify(r.report));
  assert.deepEqual([r.report.lacking, r.report.filled, r.report.left], [0, 0, 0]);
  got = await svc.req('GET', `/images/${gone.id}`, { token: owner });
  assert.match(got.json.thumbhash, /^[A-Za-z0-9+/]+=*$/);

  // A re-import of a newer legacy copy naming the same object keeps them.
  const newer = { ...rec, title: 'renamed in legacy', updatedAt: '2024-01-01T00:00:00.000Z' };
  const imp = await svc.req('POST', '/images', { token: service, body: newer });
  assert.equal(imp.status, 200, JSON.stringify(imp.json));
  assert.equal(imp.json.title, 'renamed in legacy');
  assert.equal(imp.json.thumbhash, SOLID_HASH);
});

test('rows migrated from the legacy table have none until backfill-placeholders, then have them', { skip: !HAVE_POSTGRES && 'no PostgreSQL' }, async () => {
  const pg = await startPostgres();
  try {
    pg.sql(LEGACY_SCHEMA);
    const user = randomUUID(), owner = svc.token(user);
    const rows = [[randomUUID(), 'solid.png', solidPng(400, 200, SOLID)], [randomUUID(), 'wide.png', makePng(900, 300, { seed: 3 })]];
    for (const [id, name, bytes] of rows) {
      await putObject(svc, `legacy/${user}/${name}`, bytes);
      pg.sql(`INSERT INTO gallery_images (id, user_id, original_filename, mime_type, file_size, s3_key, created_at)
              VALUES ('${id}', '${user}', '${name}', 'image/png', ${bytes.length}, 'legacy/${user}/${name}', '2022-02-02T10:00:00Z')`);
    }
    const env = { ...process.env, DATA_DIR: svc.dataDir, JWT_SECRET: svc.secret, ...svc.backend };
    const m = await runTool(['migrate', '--legacy-url', pg.url], env);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /created 2,/);
    for (const [id] of rows) {
      const got = await svc.req('GET', `/images/${id}`, { token: owner });
      assert.equal(got.status, 200);
      assert.equal(got.json.thumbhash, undefined);
      assert.equal(got.json.dominantColor, undefined);
    }
    let r = await backfill();
    assert.equal(r.code, 0, JSON.stringify(r.report));
    assert.deepEqual([r.report.lacking, r.report.filled], [2, 2]);
    const solid = await svc.req('GET', `/images/${rows[0][0]}`, { token: owner });
    assert.equal(solid.json.thumbhash, SOLID_HASH);
    assert.equal(solid.json.dominantColor, '#2563b4');
    const wide = await svc.req('GET', `/images/${rows[1][0]}`, { token: owner });
    assert.match(wide.json.thumbhash, /^[A-Za-z0-9+/]{20,}=*$/);
    r = await backfill();
    assert.deepEqual([r.code, r.report.lacking, r.report.filled], [0, 0, 0]);
  } finally {
    await pg.stop();
  }
});

test('the human summary is one line and --limit must be positive', async () => {
  const env = { ...process.env, DATA_DIR: svc.dataDir, JWT_SECRET: svc.secret, ...svc.backend };
  const r = await runTool(['backfill-placeholders'], env);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^backfill-placeholders: scanned \d+, lacking 0, filled 0, main image missing 0, failed 0, edited meanwhile 0, left by --limit 0, [\d.e-]+ s\n$/);
  const bad = await runTool(['backfill-placeholders', '--limit', '0'], env);
  assert.notEqual(bad.code, 0);
});
