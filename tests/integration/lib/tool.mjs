// Running image-service subcommands (migrate, verify, fsck…) from the tests.
import { spawn } from 'node:child_process';
import { BIN } from './server.mjs';

// Asynchronous, so the event loop keeps serving the HTTP client's sockets while a tool runs
// (a blocked loop misses the server closing an idle keep-alive connection).
export function runTool(args, env) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { env });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const someRowsDone = (err) => {
  const m = [...err.matchAll(/migrate: (\d+)\/(\d+) rows/g)].at(-1);
  return Boolean(m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2]));
};

// Starts `migrate` with progress lines every 100 ms and SIGKILLs it as soon as its stderr so far
// satisfies `killWhen` (default: a progress line showing some rows done but not all). Resolves
// with how it ended and its stderr.
export async function migrateUntilKilled(args, env, killWhen = someRowsDone) {
  const proc = spawn(BIN, ['migrate', ...args, '--progress-ms', '100'], { env });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let err = '';
  await new Promise((resolve) => {
    proc.stderr.on('data', (d) => {
      err += d;
      if (killWhen(err)) { proc.kill('SIGKILL'); resolve(); }
    });
    exited.then(resolve);  // never wait for a line from a process that is gone
  });
  return { ...(await exited), err };
}
