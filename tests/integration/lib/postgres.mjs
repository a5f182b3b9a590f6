// A real PostgreSQL server from Debian's packages on a free loopback port with a fresh data
// directory (as the postgres user when the tests run as root), the legacy schema of SPEC §8, and a
// seeded generator of legacy data.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './engines.mjs';

function pgBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin/postgres'))).sort();
  return versions.length ? path.join(base, versions.at(-1), 'bin') : null;
}

export const HAVE_POSTGRES = Boolean(pgBin());

export async function startPostgres() {
  const bin = pgBin();
  if (!bin) throw new Error('PostgreSQL is not installed (scripts/install-deps.sh installs it)');
  const root = process.getuid() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-pg-'));
  chmodSync(dir, 0o755);
  if (root) {
    const pw = spawnSync('id', ['-u', 'postgres']).stdout.toString().trim();
    const gid = spawnSync('id', ['-g', 'postgres']).stdout.toString().trim();
    chownSync(dir, Number(pw), Number(gid));
  }
  const as = (cmd, args) => (root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const data = path.join(dir, 'data');
  const [c1, a1] = as(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const init = spawnSync(c1, a1);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [c2, a2] = as(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off', '-c', 'max_connections=50']);
  const proc = spawn(c2, a2, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const on = (d) => { log += d; if (log.includes('database system is ready to accept connections')) resolve(); };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
    proc.on('exit', (c) => reject(new Error(`postgres exited (${c}):\n${log}`)));
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url, port,
    // Runs SQL with psql; returns stdout (unaligned, tuples only).
    sql(text) {
      const r = spawnSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres',
        '-v', 'ON_ERROR_STOP=1', '-At', '-c', text], { maxBuffer: 256 * 1024 * 1024 });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout.toString();
    },
    // Fast shutdown, signalled to the postmaster itself: runuser does not pass signals on.
    async stop() {
      const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const LEGACY_SCHEMA = `
CREATE TABLE gallery_images (
  id UUID PRIMARY KEY, user_id UUID NOT NULL, album_id UUID,
  original_filename VARCHAR(255) NOT NULL, mime_type VARCHAR(50) NOT NULL, file_size INTEGER NOT NULL,
  width INTEGER, height INTEGER, s3_key VARCHAR(500) NOT NULL, thumbnail_key VARCHAR(500),
  title VARCHAR(255), description TEXT, alt_text VARCHAR(255), tags JSONB,
  created_at TIMESTAMPTZ DEFAULT NOW(), updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE INDEX gallery_images_created ON gallery_images (created_at, id);`;

// A deterministic legacy dataset of `rows` rows over `users` users, generated inside PostgreSQL
// (seeded by md5 of the row number, so every run produces the same data). It holds the edge cases
// of the migration: NULL width/height, NULL thumbnail_key, NULL tags, tags as a JSON object or a
// scalar, 255-character unicode filenames, equal created_at timestamps (three rows per second),
// album ids, rows that must be rejected (a non-image MIME type; a description over 5000 chars),
// and text the old system accepted that the service normalises (about 1 row in 90 has a title
// with a newline, as in a real table; tabs in alt texts and tags, CR/LF and a bidi override in
// file names, a bell in descriptions).
export function generateLegacy(pg, rows = 100000, users = 2000) {
  pg.sql(LEGACY_SCHEMA);
  pg.sql(`
INSERT INTO gallery_images
SELECT
  md5('img' || i)::uuid,
  md5('user' || (i % ${users}))::uuid,
  CASE WHEN i % 4 = 0 THEN md5('album' || (i % ${users}) || '-' || (i % 3))::uuid END,
  CASE WHEN i % 97 = 0 THEN repeat('é', 250) || '.jpeg'
       WHEN i % 401 = 9 THEN E'photo\r\n' || i || '.jpg'
       WHEN i % 401 = 10 THEN 'photo' || U&'\\202E' || 'gpj.exe'
       ELSE 'photo ' || i || '.jpg' END,
  CASE WHEN i % 20011 = 7 THEN 'application/pdf' WHEN i % 5 = 0 THEN 'image/png' ELSE 'image/jpeg' END,
  10000 + (i * 7919) % 5000000,
  CASE WHEN i % 17 = 0 THEN NULL ELSE 800 + i % 3200 END,
  CASE WHEN i % 17 = 0 THEN NULL ELSE 600 + i % 2400 END,
  'gallery/' || md5('user' || (i % ${users})) || '/' || i || '.jpg',
  CASE WHEN i % 13 = 0 THEN NULL ELSE 'gallery/' || md5('user' || (i % ${users})) || '/thumb_' || i || '.jpg' END,
  CASE WHEN i % 7 = 0 THEN NULL WHEN i % 90 = 1 THEN 'Title ' || i || E'\nsecond line' ELSE 'Title ' || i END,
  CASE WHEN i % 30011 = 11 THEN repeat('x', 6000) WHEN i % 307 = 4 THEN E'bell\x07 ' || i
       WHEN i % 2 = 0 THEN 'Description of ' || i || E'\\nsecond line' END,
  CASE WHEN i % 9 = 0 THEN 'alt ' || i WHEN i % 181 = 5 THEN E'alt\t' || i END,
  CASE WHEN i % 11 = 0 THEN NULL
       WHEN i % 241 = 3 THEN jsonb_build_array(E'tab\tbed', 'tag' || (i % 7))
       WHEN i % 19 = 0 THEN jsonb_build_object('a', 'tag' || (i % 50), 'b', 'extra')
       WHEN i % 23 = 0 THEN to_jsonb('solo' || (i % 10))
       ELSE jsonb_build_array('tag' || (i % 50), 'tag' || (i % 7)) END,
  timestamptz '2020-01-01 00:00:00+00' + ((i / 3) || ' seconds')::interval,
  timestamptz '2020-01-01 00:00:00+00' + ((i / 3) || ' seconds')::interval + ((i % 5) || ' days')::interval
FROM generate_series(1, ${rows}) AS i;`);
  const rejected = Number(pg.sql(`SELECT count(*) FROM gallery_images WHERE mime_type NOT LIKE 'image/%' OR length(description) > 5000`).trim());
  return { rows, users, rejected, normalized: countNormalized(pg) };
}

// Rows the migration stores with their text normalised (control characters replaced, invisible
// format characters removed), rejected rows excepted.
export function countNormalized(pg) {
  return Number(pg.sql(`SELECT count(*) FROM gallery_images
    WHERE mime_type LIKE 'image/%' AND coalesce(length(description), 0) <= 5000 AND (
      title ~ '[\\x01-\\x1f\\x7f]' OR alt_text ~ '[\\x01-\\x1f\\x7f]'
      OR original_filename ~ '[\\x01-\\x1f\\x7f\\u202e]'
      OR description ~ '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]' OR tags::text ~ '\\\\[tnrbf]|\\\\u00')`).trim());
}
