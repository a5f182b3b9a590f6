// One engine (engine.mjs) shared by many test processes, for engines too slow to start per test
// (DynamoDB Local's JVM: ~1-2 s each). ctest runs `start` as a fixture set-up and `stop` as its
// clean-up; the engine's endpoint is written to <file> for the tests to read.
//   node shared-engine.mjs start <kind> <file>   returns once the engine is ready
//   node shared-engine.mjs stop <file>
// The engine also stops by itself when the process that ran `start` (ctest) is gone, so an
// interrupted run leaves nothing behind.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const START_DEADLINE_MS = 90_000;
const STOP_DEADLINE_MS = 15_000;
const [cmd, ...args] = process.argv.slice(2);

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (cmd === 'start') {
  const [kind, file] = args;
  rmSync(file, { force: true });
  // No pipe to the caller: ctest waits for a test's output to close, which would be never.
  const log = openSync(`${file}.log`, 'w');
  const server = spawn(process.execPath, [self, 'serve', kind, file, String(process.ppid)],
    { detached: true, stdio: ['ignore', log, log] });
  let failed = null;
  server.on('exit', (c) => { failed = c ?? 1; });
  const deadline = Date.now() + START_DEADLINE_MS;
  while (!existsSync(file)) {
    if (failed !== null) {
      console.error(`${kind} did not start (${failed}):\n${readFileSync(`${file}.log`, 'utf8')}`);
      process.exit(1);
    }
    if (Date.now() > deadline) { server.kill('SIGTERM'); console.error(`${kind} not ready in time`); process.exit(1); }
    await sleep(50);
  }
  server.unref();
  console.log(`${kind}: ${readFileSync(file, 'utf8').trim()}`);
  process.exit(0);
} else if (cmd === 'serve') {
  const [kind, file, ownerPid] = args;
  const engine = spawn(process.execPath, [path.join(here, 'engine.mjs'), kind],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    engine.stdout.on('data', (d) => { out += d; const m = out.match(/READY (\d+)\n/); if (m) resolve(m[1]); });
    engine.on('exit', (c) => reject(new Error(`${kind} exited (${c}) before it was ready`)));
  }).catch((e) => { console.error(e.message); process.exit(1); });
  const stop = () => {
    engine.stdin.end();
    engine.once('exit', () => {
      for (const f of [file, `${file}.log`]) rmSync(f, { force: true });
      process.exit(0);
    });
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
  };
  process.on('SIGTERM', stop);
  writeFileSync(`${file}.tmp`, `http://127.0.0.1:${port} ${process.pid}\n`);
  renameSync(`${file}.tmp`, file);
  const watch = setInterval(() => { if (!alive(Number(ownerPid))) { clearInterval(watch); stop(); } }, 1000);
} else if (cmd === 'stop') {
  const [file] = args;
  if (!existsSync(file)) process.exit(0);
  const pid = Number(readFileSync(file, 'utf8').trim().split(' ')[1]);
  if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_DEADLINE_MS;
  while (pid > 0 && alive(pid) && Date.now() < deadline) await sleep(50);
  const stopped = !alive(pid);
  if (stopped) for (const f of [file, `${file}.log`]) rmSync(f, { force: true });
  process.exit(stopped ? 0 : 1);
} else {
  console.error('usage: shared-engine.mjs start <kind> <file> | stop <file>');
  process.exit(2);
}
