// Image bombs (issue 11): files whose decoding would cost seconds of CPU or gigabytes of memory are
// refused from their container structure before any decoder runs — 400 INVALID_IMAGE naming the
// reason, quickly and without memory growth — while their legitimate neighbours still pass, a
// small upload is not held up while bombs arrive, and PROCESSING_TIMEOUT_MS really stops libvips.
// Runs in both modes (bombs never reach storage) and under the ASan build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, Service } from './lib/server.mjs';
import { contractViolation } from './lib/contract.mjs';
import { makePng } from './lib/png.mjs';
import * as bombs from './lib/bombs.mjs';

// The sanitizer build runs our code (HTTP, multipart, walkers) several times slower; libvips and
// zlib are not instrumented. A bomb took seconds before the walkers, so 300 ms still tells.
const ASAN = /asan/.test(BIN);
const FAST_MS = ASAN ? 300 : 100;
const RSS_GROWTH_MB = 20;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString());

const procStatus = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const statusMb = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(procStatus(pid))[1]) / 1024;
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;  // utime + stime
};
// Resets VmHWM (peak RSS) to the current RSS, so that the peak during one bomb can be read.
const resetPeak = (pid) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

async function post(svc, token, bytes, name) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const t0 = performance.now();
  const res = await fetch(`${svc.base}/images`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  const buf = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  const json = buf.length ? JSON.parse(buf.toString()) : null;
  const violation = await contractViolation('POST', '/images', res.status, res.headers.get('content-type'), json);
  assert.equal(violation, null, violation);
  return { status: res.status, json, ms };
}

function assertRefused(r, reason) {
  assert.equal(r.status, 400, JSON.stringify(r.json));
  assert.equal(r.json.code, 'INVALID_IMAGE', JSON.stringify(r.json));
  assert.equal(r.json.details.reason, reason, JSON.stringify(r.json));
  assert.equal(r.json.details.field, 'file');
}

let svc, token;
const made = {};
const BOMBS = [
  { id: 'ztxt', name: 'PNG, 100 zTXt chunks inflating to 5 MB each', file: 'ztxt.png', reason: 'png_text_too_large', make: () => bombs.pngTextBomb('zTXt') },
  { id: 'itxt', name: 'PNG, 100 compressed iTXt chunks inflating to 5 MB each', file: 'itxt.png', reason: 'png_text_too_large', make: () => bombs.pngTextBomb('iTXt') },
  { id: 'iccp', name: 'PNG, an iCCP profile inflating to 256 MiB', file: 'iccp.png', reason: 'png_icc_too_large', make: () => bombs.pngIccBomb() },
  { id: 'scans', name: '8000x8000 progressive JPEG with 3,000 extra scans', file: 'scans.jpg', reason: 'jpeg_too_many_scans', make: () => bombs.jpegScanBomb(3000) },
  { id: 'segments', name: 'JPEG with 30,000 empty APP1 segments', file: 'segments.jpg', reason: 'jpeg_too_many_segments', make: () => bombs.jpegSegmentBomb(30_000) },
  { id: 'frames', name: 'animated WebP with 20,000 frames', file: 'frames.webp', reason: 'webp_too_many_frames', make: () => bombs.webpFrameBomb(20_000) },
  { id: 'chunks', name: 'WebP with 200,000 empty chunks', file: 'chunks.webp', reason: 'webp_too_many_chunks', make: () => bombs.webpChunkBomb(200_000) },
];

before(async () => {
  svc = await new Service({ STAGE: 'production' }).start();
  token = svc.token('bomber');
  for (const b of BOMBS) made[b.id] = await b.make();
});
after(async () => { assert.equal((await svc.stop()).code, 0); });

test('the legitimate neighbours of each bomb are accepted', async () => {
  for (const [name, bytes, w, h] of [
    ['text.png', bombs.legitPngWithText(), 200, 200],           // 600 KB of zTXt
    ['progressive.jpg', bombs.legitProgressiveJpeg(), 400, 300],  // 10 scans
    ['animated.webp', bombs.legitAnimatedWebp(), 200, 200],       // 3 frames
    ['lossless.webp', bombs.legitLosslessWebp(), 200, 200],       // 3 unknown chunks
  ]) {
    const r = await post(svc, token, bytes, name);
    assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.json)}`);
    assert.deepEqual([r.json.width, r.json.height], [w, h], name);
  }
});

for (const b of BOMBS) {
  test(`${b.name}: 400 ${b.reason} for < ${FAST_MS} ms of service CPU, RSS growth < ${RSS_GROWTH_MB} MB`, async () => {
    const bytes = made[b.id];
    const pid = svc.proc.pid;
    resetPeak(pid);
    const before = statusMb(pid, 'VmRSS');
    const cpu0 = cpuSeconds(pid);
    const times = [];
    // Three in a row, each refused. What a refusal costs is the service's CPU time (nothing else
    // talks to this instance meanwhile): wall time on a machine shared with other suites measured
    // the load (the fastest of three took 107-116 ms here with four busy loops beside it, 32-41
    // ms without). A bomb that is decoded costs seconds of CPU every time.
    for (let i = 0; i < 3; i++) {
      const r = await post(svc, token, bytes, b.file);
      assertRefused(r, b.reason);
      times.push(r.ms);
    }
    const cpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / 3;
    const growth = statusMb(pid, 'VmHWM') - before;
    console.log(`${b.file} (${(bytes.length / 1024).toFixed(0)} KiB): ${times.map((t) => t.toFixed(0)).join('/')} ms, ${cpuMs.toFixed(0)} ms CPU each, peak RSS +${growth.toFixed(1)} MB`);
    assert.ok(cpuMs < FAST_MS, `${cpuMs.toFixed(0)} ms of CPU per refusal`);
    // And no refusal waits on anything: even a loaded machine answers within seconds.
    assert.ok(Math.max(...times) < 5000, `answered in ${times.map((t) => t.toFixed(0)).join('/')} ms`);
    assert.ok(growth < RSS_GROWTH_MB, `peak RSS grew by ${growth.toFixed(1)} MB`);
  });
}

test('a 100x100 upload finishes in < 2 s while bombs are being sent', async () => {
  let stop = false;
  const refused = [];
  // Two scan bombs (today each held a processing thread for 13 s), a text bomb and a frame bomb,
  // each sent again as soon as it is answered.
  const sender = async (id) => {
    const b = BOMBS.find((x) => x.id === id);
    while (!stop) {
      const r = await post(svc, token, made[id], b.file);
      assertRefused(r, b.reason);
      refused.push(id);
    }
  };
  const senders = ['scans', 'scans', 'ztxt', 'frames'].map(sender);
  try {
    for (let i = 0; i < 5; i++) {
      const r = await post(svc, token, makePng(100, 100, { seed: i }), 'small.png');
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.ok(r.ms < 2000, `small upload took ${r.ms.toFixed(0)} ms`);
    }
  } finally {
    stop = true;
    await Promise.all(senders);
  }
  console.log(`${refused.length} bombs refused during 5 small uploads`);
  assert.ok(refused.length >= 6, String(refused.length));
});

// An 8000x6000 photo-like JPEG (smooth noise), made by the vips CLI.
function bigJpeg() {
  const dir = mkdtempSync(path.join(tmpdir(), 'isvc-big-'));
  try {
    const f = (n) => path.join(dir, n);
    execFileSync('vips', ['gaussnoise', f('n.v'), '1000', '750', '--mean', '128', '--sigma', '40']);
    execFileSync('vips', ['resize', f('n.v'), f('r.v'), '8']);
    execFileSync('vips', ['cast', f('r.v'), f('c.v'), 'uchar']);
    execFileSync('vips', ['bandjoin', `${f('c.v')} ${f('c.v')} ${f('c.v')}`, f('b.v')]);
    execFileSync('vips', ['copy', f('b.v'), `${f('big.jpg')}[Q=85]`, '--interpretation', 'srgb']);
    return readFileSync(f('big.jpg'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('PROCESSING_TIMEOUT_MS stops libvips work: 400 processing_timeout, the CPU stops, the next upload succeeds', async () => {
  const big = bigJpeg();
  // Under the default deadline the job completes: this is what it costs.
  let c0 = cpuSeconds(svc.proc.pid);
  const full = await post(svc, token, big, 'big.jpg');
  assert.equal(full.status, 201, JSON.stringify(full.json));
  assert.deepEqual([full.json.width, full.json.height], [8000, 6000]);
  const fullCpu = cpuSeconds(svc.proc.pid) - c0;

  const quick = await new Service({ PROCESSING_TIMEOUT_MS: '100' }).start();
  try {
    const qtoken = quick.token('bomber');
    const pid = quick.proc.pid;
    // What the same upload costs before processing starts (transfer, multipart, walk, header):
    // the same bytes with a width of 9000 in the SOF, refused from the header.
    const wide = Buffer.from(big);
    const sof = wide.indexOf(Buffer.from([0xff, 0xc0]));
    wide.writeUInt16BE(9000, sof + 7);
    c0 = cpuSeconds(pid);
    const refused = await post(quick, qtoken, wide, 'wide.jpg');
    assert.equal(refused.json.code, 'INVALID_DIMENSIONS', JSON.stringify(refused.json));
    const overhead = cpuSeconds(pid) - c0;
    c0 = cpuSeconds(pid);
    const r = await post(quick, qtoken, big, 'big.jpg');
    assertRefused(r, 'processing_timeout');
    const cutCpu = cpuSeconds(pid) - c0;
    // Once answered, the work is over: no thread is still decoding. (A measuring window, not a
    // synchronisation: an idle service uses no CPU.)
    const idle0 = cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleCpu = cpuSeconds(pid) - idle0;
    console.log(`8000x6000 JPEG: ${full.ms.toFixed(0)} ms and ${fullCpu.toFixed(2)} s CPU in full; with a 100 ms deadline ${r.ms.toFixed(0)} ms and ${cutCpu.toFixed(2)} s CPU (${overhead.toFixed(2)} s of it before processing), then ${idleCpu.toFixed(2)} s CPU in the next second`);
    assert.ok(cutCpu - overhead < (fullCpu - overhead) / 2, `the deadline did not cut the processing short (${cutCpu} of ${fullCpu} s, ${overhead} s before processing)`);
    // Wall time is logged, not asserted: under ASan in distributed mode the refused request once
    // took longer than the full one (2.6 s, the machine loaded by other suites); the CPU above is
    // what shows the deadline cut the work.
    assert.ok(idleCpu < 0.1, `CPU kept growing after the answer: ${idleCpu} s`);
    // The pool is free again: a small upload is processed. On a machine loaded by the other
    // suites even a 100x100 PNG can miss a 100 ms deadline, so it is tried until it gets through
    // (at most ten times), each miss being exactly that deadline; a pool still busy with the bomb
    // would hold the upload in its queue instead, and the fetch would time out.
    let next;
    for (let i = 0; i < 10; i++) {
      next = await post(quick, qtoken, makePng(100, 100), 'next.png');
      if (next.status === 201) break;
      assertRefused(next, 'processing_timeout');
    }
    assert.equal(next.status, 201, JSON.stringify(next.json));
  } finally {
    assert.equal((await quick.stop()).code, 0);
  }
});
