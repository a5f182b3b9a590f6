// Runs the given test files once against the TLS listener: makes a CA and a certificate for
// 127.0.0.1, then `node --test` with ISVC_TLS_CERT/ISVC_TLS_KEY (lib/server.mjs starts every
// service with them and talks https), NODE_EXTRA_CA_CERTS and CURL_CA_BUNDLE (so fetch() and
// curl verify the chain).
// Files that open TCP sockets of their own (node:net, a plain-HTTP proxy in front) cannot run
// over TLS as they are and are left out, by name in the output.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { names, runnerArgs, select } from './lib/passes.mjs';
import { makeCa, makeLeaf } from './lib/tls.mjs';

// The files whose outcome the transport can change (lib/passes.mjs), less those below.
const { run: transport, left: notTransport } = select('tls', process.argv.slice(2));
console.log(`left out (the transport cannot change their outcome): ${names(notTransport)}`);
const files = transport;
// lib/raw.mjs itself switches to TLS, so its users (the hostile-client suites) run too.
const rawTcp = /node:net|startVarnish/;
const own = /(^|\/)(tls|systemd-unit)\.test\.mjs$/;  // TLS-specific already, or no HTTP at all
// The 200-upload overload test stays in the plain pass: over TLS, on a loaded machine, some of
// Node's clients pause longer than the lingering close's quiet time while writing a refused
// body, take the FIN and fail their next write (EPIPE) before reading the 503 (docs/security.md);
// tls.test.mjs checks the lingering close over TLS itself.
const plainOnly = /(^|\/)overload\.test\.mjs$/;
const run = [], skipped = [];
for (const f of files) (own.test(f) || plainOnly.test(f) || rawTcp.test(readFileSync(f, 'utf8')) ? skipped : run).push(f);
console.log(`over TLS: ${names(run)}`);
console.log(`left out (raw TCP, TLS-specific, or the plain pass's load test): ${names(skipped)}`);

const dir = mkdtempSync(path.join(tmpdir(), 'isvc-tls-suite-'));
const ca = makeCa(dir);
const leaf = makeLeaf(dir, ca, 'leaf', { chain: true });
const child = spawn(process.execPath, [...runnerArgs, ...run], {
  stdio: 'inherit',
  env: { ...process.env, ISVC_TLS_CERT: leaf.cert, ISVC_TLS_KEY: leaf.key, NODE_EXTRA_CA_CERTS: ca.cert, CURL_CA_BUNDLE: ca.cert },
});
child.on('exit', (code, signal) => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
