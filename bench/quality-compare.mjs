// Output bytes and perceptual distance of the main WebP, image-service against npm sharp running
// the brief's pipeline (webp quality 85, fit inside 2048, no enlargement), on the same files.
// Each output is decoded and compared by butteraugli (Debian libjxl-devtools, butteraugli_main)
// against the original reduced to the output's size by libvips (lanczos3) and stored lossless:
// lower is better; the table shows the max distance and the 3-norm. Images with alpha are
// flattened on white for the comparison (butteraugli sees colour only). Prints a Markdown table
// and the totals; part of `make bench`.
//   node bench/quality-compare.mjs file…
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, 'sharp/package.json'));
const sharp = require('sharp');
const BIN = process.env.ISVC_PROCESS_BENCH || path.join(here, '../build/release/bench/isvc_process_bench');
const files = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quality-'));
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function dims(file) {
  return ['width', 'height'].map((f) => Number(run('vipsheader', ['-f', f, file]).trim()));
}
const bands = (file) => Number(run('vipsheader', ['-f', 'bands', file]).trim());
// In sRGB, alpha (2 or 4 bands) flattened on white, written to `to`.
function opaque(file, to) {
  const srgb = path.join(tmp, `${path.basename(to)}.srgb.v`);
  run('vips', ['colourspace', file, srgb, 'srgb']);
  if (bands(srgb) === 4) run('vips', ['flatten', srgb, to, '--background', '255']);
  else run('vips', ['copy', srgb, to]);
}
// A decoded output as PNG, and the original (upright) reduced by libvips to the output's size.
function comparable(webp, original, name) {
  const out = path.join(tmp, `${name}.png`);
  opaque(webp, out);
  const [w, h] = dims(out);
  const rot = path.join(tmp, `${name}.rot.v`);
  run('vips', ['autorot', original, rot]);
  const flat = path.join(tmp, `${name}.flat.v`);
  opaque(rot, flat);
  const [ow, oh] = dims(flat);
  const ref = path.join(tmp, `${name}.ref.png`);
  run('vips', ['resize', flat, ref, String(w / ow), '--vscale', String(h / oh)]);
  return { out, ref };
}
function butteraugli(ref, out) {
  const txt = run('butteraugli_main', [ref, out, '--pnorm', '3']);
  const nums = txt.match(/[0-9]+\.[0-9]+/g).map(Number);
  return { max: nums[0], pnorm: nums[1] };
}

const rows = [];
for (const file of files) {
  const name = path.basename(file);
  run(BIN, ['--runs', '1', '--out', tmp, file]);
  const ours = path.join(tmp, `${name}.webp`);
  const theirs = path.join(tmp, `${name}.sharp.webp`);
  fs.writeFileSync(theirs, await sharp(fs.readFileSync(file))
    .webp({ quality: 85 }).resize(2048, 2048, { fit: 'inside', withoutEnlargement: true }).toBuffer());
  const a = comparable(ours, file, `${name}.ours`);
  const b = comparable(theirs, file, `${name}.sharp`);
  rows.push({ name, ours: { bytes: fs.statSync(ours).size, ...butteraugli(a.ref, a.out) },
    sharp: { bytes: fs.statSync(theirs).size, ...butteraugli(b.ref, b.out) } });
}
const f2 = (x) => x.toFixed(2);
console.log(`sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, libwebp ${sharp.versions.webp}); butteraugli_main from libjxl-devtools; main WebP only\n`);
console.log('| file | image-service bytes | sharp bytes | bytes ratio | image-service butteraugli max / 3-norm | sharp butteraugli max / 3-norm |');
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.name} | ${r.ours.bytes} | ${r.sharp.bytes} | ${f2(r.ours.bytes / r.sharp.bytes)} | ${f2(r.ours.max)} / ${f2(r.ours.pnorm)} | ${f2(r.sharp.max)} / ${f2(r.sharp.pnorm)} |`);
const sum = (k, f) => rows.reduce((s, r) => s + r[k][f], 0);
console.log(`\nTotals: image-service ${sum('ours', 'bytes')} bytes, sharp ${sum('sharp', 'bytes')} (ratio ${f2(sum('ours', 'bytes') / sum('sharp', 'bytes'))}); mean butteraugli 3-norm ${f2(sum('ours', 'pnorm') / rows.length)} vs ${f2(sum('sharp', 'pnorm') / rows.length)}, mean max ${f2(sum('ours', 'max') / rows.length)} vs ${f2(sum('sharp', 'max') / rows.length)}.`);
fs.rmSync(tmp, { recursive: true, force: true });
