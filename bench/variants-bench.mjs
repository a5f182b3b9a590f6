// Responsive variants against the main WebP (issue 13), in one run on this machine: for each
// photo, every variant's bytes, its first-request latency and the service CPU it cost, and a
// butteraugli score against a reference of the same size made from the original (libvips
// thumbnail, size=force, PNG); then the bytes a 1,000-view mix downloads against today's main
// WebP. Needs Debian's libjxl-devtools (butteraugli_main) and libvips-tools.
//   node bench/variants-bench.mjs [photo…]   (defaults: the corpus photos and phone photos)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.ISVC_BIN || path.join(root, 'build/release/image-service');
const shared = path.resolve(root, '../shared/testdata');
const defaults = ['images/photo_12mp.jpg', 'images/photo_3mb.jpg', 'images/photo_portrait.jpg',
  'realworld/images/avif-dog_exif_extended_xmp_icc.jpg', 'realworld/images/sharp-flickr-2725x2225.jpg']
  .map((f) => path.join(shared, f)).filter(existsSync);
const photos = process.argv.slice(2).length ? process.argv.slice(2) : defaults;
if (!photos.length) throw new Error('no photos: pass some, or provide ../shared/testdata');

const work = mkdtempSync(path.join(tmpdir(), 'isvc-variants-bench-'));
const secret = 'variants-bench-secret-variants-bench';
const env = { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: path.join(work, 'data'), STAGE: 'dev',
  RATE_LIMITS_ENABLED: 'false', LOG_LEVEL: 'info', JWT_SECRET: secret };
const proc = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/"port":(\d+)/);
    if (m) resolve(Number(m[1]));
  });
  proc.on('exit', (c) => reject(new Error(`serve exited ${c}: ${out}`)));
});
proc.stdout.resume();
const base = `http://127.0.0.1:${port}`;
const token = execFileSync(BIN, ['token', '--user', 'bench', '--ttl', '2h'], { env }).toString().trim();
const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString());
const cpuMs = () => {
  const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / tick;
};
const vips = (...a) => execFileSync('vips', a, { stdio: ['ignore', 'ignore', 'ignore'] });
function butteraugli(ref, file) {
  const out = execFileSync('butteraugli_main', [ref, file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const [max, norm] = [out.split('\n')[0], (out.match(/3-norm: ([\d.]+)/) || [])[1]];
  return { max: Number(max), pnorm: Number(norm) };
}

const rows = [];
const perPhoto = [];
try {
  for (const file of photos) {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), path.basename(file));
    const up = await (await fetch(`${base}/images`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })).json();
    if (!up.variants) throw new Error(`upload of ${file} failed: ${JSON.stringify(up)}`);
    const main = { bytes: up.processedSize };
    const variants = [];
    for (const v of up.variants) {
      const c0 = cpuMs();
      const t0 = performance.now();
      const res = await fetch(v.url);
      const bytes = Buffer.from(await res.arrayBuffer());
      const ms = performance.now() - t0;
      const cpu = cpuMs() - c0;
      if (res.status !== 200) throw new Error(`${v.url}: ${res.status}`);
      const name = path.join(work, `${path.basename(file)}-${v.width}.${v.format}`);
      writeFileSync(name, bytes);
      const ref = path.join(work, `${path.basename(file)}-${v.width}-ref.png`);
      if (!existsSync(ref)) vips('thumbnail', file, ref, String(v.width), '--height', String(v.height), '--size', 'force');
      vips('copy', name, `${name}.png`);
      const score = butteraugli(ref, `${name}.png`);
      variants.push({ ...v, bytes: bytes.length, ms, cpu, ...score });
    }
    perPhoto.push({ file: path.basename(file), width: up.width, height: up.height, main, variants });
    for (const v of variants) rows.push({ file: path.basename(file), ...v });
  }
} finally {
  proc.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`Photos: ${perPhoto.map((p) => `${p.file} (${p.width}×${p.height})`).join(', ')}.\n`);
console.log('| photo | width | format | bytes | vs main WebP | vs WebP same width | butteraugli max / 3-norm | WebP same width | first request ms | service CPU ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const p of perPhoto) {
  for (const v of p.variants) {
    const webp = p.variants.find((x) => x.format === 'webp' && x.width === v.width);
    console.log(`| ${p.file} | ${v.width} | ${v.format} | ${fmt(v.bytes)} | ${fmt((100 * v.bytes) / p.main.bytes, 1)} % | ${v.format === 'avif' ? `${fmt((100 * (v.bytes - webp.bytes)) / webp.bytes, 1)} %` : '—'} | ${fmt(v.max, 2)} / ${fmt(v.pnorm, 2)} | ${fmt(webp.max, 2)} / ${fmt(webp.pnorm, 2)} | ${fmt(v.ms)} | ${fmt(v.cpu)} |`);
  }
}
// Averages per format and width over the photos that have the width.
console.log('\n| format | width | photos | mean bytes vs WebP same width | mean butteraugli 3-norm (WebP) | mean first request ms | mean CPU ms |');
console.log('|---|---|---|---|---|---|---|');
const widths = [...new Set(rows.map((r) => r.width))].sort((a, b) => a - b);
for (const f of ['avif', 'webp']) {
  for (const w of widths) {
    const sel = perPhoto.map((p) => [p, p.variants.find((v) => v.format === f && v.width === w), p.variants.find((v) => v.format === 'webp' && v.width === w)]).filter(([, v]) => v);
    if (!sel.length) continue;
    const mean = (g) => sel.reduce((a, s) => a + g(s), 0) / sel.length;
    console.log(`| ${f} | ${w} | ${sel.length} | ${fmt(100 * mean(([, v, x]) => v.bytes / x.bytes), 1)} % | ${fmt(mean(([, v]) => v.pnorm), 2)} (${fmt(mean(([, , x]) => x.pnorm), 2)}) | ${fmt(mean(([, v]) => v.ms))} | ${fmt(mean(([, v]) => v.cpu))} |`);
  }
}
// The view mix: half phones showing the image 1080 device px wide, half desktops 1600 px; each
// takes the smallest AVIF variant at least that wide (else the widest), as <picture> with a
// 100vw `sizes` does. Today every view downloads the main WebP.
const pick = (p, need, f) => {
  const vs = p.variants.filter((v) => v.format === f).sort((a, b) => a.width - b.width);
  return vs.find((v) => v.width >= need) || vs[vs.length - 1];
};
let today = 0, avif = 0, webp = 0;
for (const p of perPhoto) {
  today += 1000 * p.main.bytes;
  avif += 500 * pick(p, 1080, 'avif').bytes + 500 * pick(p, 1600, 'avif').bytes;
  webp += 500 * pick(p, 1080, 'webp').bytes + 500 * pick(p, 1600, 'webp').bytes;
}
const n = perPhoto.length;
console.log(`\n1,000 views (500 phones at 1080 px, 500 desktops at 1600 px), mean over ${n} photos: today ${fmt(today / n / 1e6, 1)} MB (main WebP), AVIF variants ${fmt(avif / n / 1e6, 1)} MB (${fmt(today / avif, 2)}× less), WebP variants ${fmt(webp / n / 1e6, 1)} MB (${fmt(today / webp, 2)}× less).`);
