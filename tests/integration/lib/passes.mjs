// Which files of the HTTP suite each pass runs. The plain pass (release binary, embedded backends,
// plain HTTP) runs every file. Every other pass changes one thing and runs the files whose outcome
// that one thing can change; the rest would repeat the plain pass's work, and on this 2-core
// machine every pass of the whole suite costs minutes of `make test` (docs/decisions.md, "What
// make test runs").
//   TLS          the transport: the files that move bodies both ways or misbehave as clients.
//   distributed  where records and bytes live: every file except those whose answer is settled at
//                the edge (the decoders, the HTTP parser, admission, the configuration, the
//                listener) before any store is touched.
//   sanitizer    the binary (ASan+UBSan): every file except the browser's, whose time is spent
//                in Chromium (the same requests reach the server from api and files).
// A pass lists the files it leaves out, by name, in its output.
import path from 'node:path';

// Files whose outcome no backend can change: the request is answered (or the file decided) by the
// imaging pipeline, the parser, admission or start-up; the store only keeps bytes that files,
// api and variants check on every backend.
const EDGE = new Set([
  'bombs', 'formats', 'exif', 'heif', 'realworld', 'manifest', 'text', 'vips-log', 'placeholders',
  'hostile-http', 'hostile-slow', 'hostile-memory', 'overload', 'tls', 'systemd-unit', 'startup',
  'config-file', 'sigv4-crosscheck', 'contract',
]);

// Files that stream request or response bodies or act as hostile clients: what TLS can change.
const TRANSPORT = new Set([
  'api', 'files', 'files-delivery', 'direct-upload', 'idempotency', 'concurrency', 'security',
  'hostile-http', 'hostile-slow', 'hostile-memory', 'bombs', 'metrics',
]);

const BROWSER = new Set(['gallery']);

const base = (f) => path.basename(f).replace(/\.test\.mjs$/, '');

const rules = {
  tls: (n) => TRANSPORT.has(n),
  distributed: (n) => !EDGE.has(n),
  sanitizer: (n) => !BROWSER.has(n),
};

// ISVC_SUITE=all runs every file in every pass (a pass's own exclusions, e.g. raw TCP over TLS,
// still apply).
export function select(pass, files) {
  const keep = process.env.ISVC_SUITE === 'all' ? () => true : rules[pass];
  if (!keep) throw new Error(`unknown pass ${pass}`);
  const run = [], left = [];
  for (const f of files) (keep(base(f)) ? run : left).push(f);
  return { run, left };
}

// How every pass calls Node's runner: two files at a time (two cores), and a per-file deadline
// long enough for the slowest file under a sanitizer (tests/CMakeLists.txt passes the same to the
// plain pass).
export const runnerArgs = ['--test', '--test-concurrency=2', '--test-timeout=900000'];

export const names = (files) => files.map(base).join(' ') || '(none)';
