// Migration speed: the 100k-row legacy dataset of tests/integration/migrate.test.mjs, generated in
// a PostgreSQL started here (tests/integration/lib/postgres.mjs), migrated into a fresh DATA_DIR
// (the embedded store) by each binary given, rounds alternated; `--dry-run` (read + map only) is
// the reference. Prints a Markdown table; part of `make bench` (bench/all.sh).
//   node bench/migrate-bench.mjs [--rounds 3] [--rows 100000] [--bin A [--bin B …]]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres, generateLegacy, HAVE_POSTGRES } from '../tests/integration/lib/postgres.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '100000' },
    bin: { type: 'string', multiple: true },
  },
});
const rounds = Number(values.rounds), rows = Number(values.rows);
const bins = values.bin?.length ? values.bin : ['build/release/image-service'];
if (!HAVE_POSTGRES) {
  console.log('PostgreSQL is not installed (scripts/install-deps.sh): no migration benchmark');
  process.exit(0);
}

function run(bin, args, dataDir) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env: { ...process.env, DATA_DIR: dataDir } });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => {
      const m = out.match(/, ([\d.]+) s, (\d+) rows\/s/);
      if (code !== 0 || !m) reject(new Error(`${bin} ${args.join(' ')}: exit ${code}\n${out}${err}`));
      else resolve({ seconds: Number(m[1]), rate: Number(m[2]), out });
    });
  });
}

const pg = await startPostgres();
try {
  const data = generateLegacy(pg, rows, 2000);
  const results = new Map();  // label → [{seconds, rate}]
  const add = (label, r) => { if (!results.has(label)) results.set(label, []); results.get(label).push(r); };
  for (let round = 0; round < rounds; ++round) {
    for (const bin of bins) {
      const dir = mkdtempSync(path.join(tmpdir(), 'isvc-migbench-'));
      try {
        const label = bins.length > 1 ? ` (${bin})` : '';
        const r = await run(bin, ['migrate', '--legacy-url', pg.url], dir);
        if (!r.out.includes(`created ${rows - data.rejected},`)) throw new Error(`unexpected summary: ${r.out}`);
        add(`embedded (SQLite), fresh DATA_DIR${label}`, r);
        add(`embedded, re-run (writes nothing)${label}`, await run(bin, ['migrate', '--legacy-url', pg.url], dir));
        add(`\`--dry-run\` (read + map only)${label}`, await run(bin, ['migrate', '--dry-run', '--legacy-url', pg.url], dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const range = (xs, f) => {
    const lo = Math.min(...xs), hi = Math.max(...xs);
    return lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`;
  };
  const int = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`${rows.toLocaleString('en-US')} legacy rows (2,000 users, ${data.rejected} rejected, ${data.normalized} normalised), ${rounds} alternated rounds\n`);
  console.log('| run | wall time s | rows/s | median rows/s |');
  console.log('|---|---|---|---|');
  for (const [label, rs] of results) {
    const rates = rs.map((r) => r.rate).sort((a, b) => a - b);
    console.log(`| ${label} | ${range(rs.map((r) => r.seconds), (x) => x.toFixed(2))} | ${range(rates, int)} | ${int(rates[rates.length >> 1])} |`);
  }
} finally {
  await pg.stop();
}
