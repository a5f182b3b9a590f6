// The processing step of an upload, image-service (libvips through VipsProcessor) against npm
// sharp running the brief's own pipeline, on the same files in the same run:
//   sharp(buf).webp({quality:85}).resize(2048,2048,{fit:'inside',withoutEnlargement:true})
//   sharp(buf).webp({quality:80}).resize(400,400,{fit:'cover'})
// (both chains per upload, concurrently, as the brief's Lambda did). One operation at a time;
// wall-time P50/P95 and CPU milliseconds per upload. Prints a Markdown table.
//   node bench/sharp-compare.mjs [--runs 20] file…
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'sharp/package.json'));
const sharp = require('sharp');
const args = process.argv.slice(2);
let runs = 20;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  // Without the shared corpus: a 2400x1800 noise JPEG of about 3 MB.
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-sharp-'));
  execFileSync('vips', ['gaussnoise', path.join(dir, 'n.v'), '2400', '1800', '--mean', '128', '--sigma', '60']);
  execFileSync('vips', ['cast', path.join(dir, 'n.v'), path.join(dir, 'n8.v'), 'uchar']);
  execFileSync('vips', ['jpegsave', path.join(dir, 'n8.v'), path.join(dir, 'noise.jpg'), '--Q', '92']);
  files.push(path.join(dir, 'noise.jpg'));
}
const BIN = process.env.ISVC_PROCESS_BENCH || path.join(here, '../build/release/bench/isvc_process_bench');

function pct(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))];
}

async function sharpRun(buf) {
  await Promise.all([
    sharp(buf).webp({ quality: 85 }).resize(2048, 2048, { fit: 'inside', withoutEnlargement: true }).toBuffer(),
    sharp(buf).webp({ quality: 80 }).resize(400, 400, { fit: 'cover' }).toBuffer(),
  ]);
}

const rows = [];
for (const file of files) {
  const buf = readFileSync(file);
  const ours = {};
  for (const effort of [2, 4]) {
    ours[effort] = JSON.parse(execFileSync(BIN, ['--runs', String(runs), '--effort', String(effort), file]).toString());
  }
  await sharpRun(buf);  // warm-up
  const ms = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await sharpRun(buf);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  const s = { p50: pct(ms, 50), p95: pct(ms, 95), cpuMs: (cpu.user + cpu.system) / 1000 / runs };
  rows.push({ file: path.basename(file), bytes: buf.length, ours, sharp: s });
}

const f1 = (x) => x.toFixed(1);
console.log(`sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${runs} runs per file, one upload at a time\n`);
console.log('| file | image-service P50 / P95 ms (effort 2, the default) | CPU ms | image-service P50 ms (effort 4) | sharp P50 / P95 ms | sharp CPU ms | sharp ÷ image-service P50 (effort 2 / 4) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const o2 = r.ours[2], o4 = r.ours[4];
  console.log(`| ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB) | ${f1(o2.p50)} / ${f1(o2.p95)} | ${f1(o2.cpuMs)} | ${f1(o4.p50)} | ${f1(r.sharp.p50)} / ${f1(r.sharp.p95)} | ${f1(r.sharp.cpuMs)} | ${(r.sharp.p50 / o2.p50).toFixed(2)} / ${(r.sharp.p50 / o4.p50).toFixed(2)} |`);
}
