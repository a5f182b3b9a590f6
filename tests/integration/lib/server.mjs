// Starts the real image-service binary on a free port with a fresh DATA_DIR, mints tokens with an
// independent HS256 implementation, and stops the process afterwards.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contractViolation } from './contract.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

export const BIN = process.env.ISVC_BIN ||
  [path.join(root, 'build/release/image-service'), path.join(root, 'build/debug/image-service')].find(existsSync);
export const TESTDATA = process.env.ISVC_TESTDATA || path.resolve(root, '../shared/testdata/images');
export const HAVE_TESTDATA = existsSync(path.join(TESTDATA, 'MANIFEST.tsv'));

export function testImage(name) {
  return readFileSync(path.join(TESTDATA, name));
}

export function manifest() {
  const lines = readFileSync(path.join(TESTDATA, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const head = lines.shift().split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [head[i], v])));
}

// Distributed mode (run-distributed.mjs sets the engines' endpoints): every Service gets its own
// DynamoDB table and S3 bucket, named after its DATA_DIR so that a restart on the same DATA_DIR
// (and a second instance given the same DATA_DIR) shares them.
export const DISTRIBUTED = Boolean(process.env.ISVC_DYNAMODB_ENDPOINT);

export function backendEnv(dataDir) {
  if (!DISTRIBUTED) return {};
  const name = path.basename(dataDir).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const env = {
    METADATA_BACKEND: 'dynamodb', OBJECT_BACKEND: 's3',
    DYNAMODB_ENDPOINT: process.env.ISVC_DYNAMODB_ENDPOINT, DYNAMODB_TABLE_NAME: `t-${name}`,
    S3_ENDPOINT: process.env.ISVC_S3_ENDPOINT, S3_BUCKET_NAME: `b-${name}`, S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1',
  };
  if (process.env.ISVC_REDIS_ENDPOINT) env.REDIS_ENDPOINT = process.env.ISVC_REDIS_ENDPOINT;
  return env;
}

const b64url = (b) => Buffer.from(b).toString('base64url');

export function signHs256(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

// The service's crash line (src/app/crash_report.h) with the binary's frames resolved by
// addr2line (function and line), or null when the output has none.
export function resolveCrash(output) {
  const line = output.split('\n').find((l) => l.includes('"event":"crash"'));
  if (!line) return null;
  let report;
  try { report = JSON.parse(line); } catch { return null; }
  const own = `${path.basename(BIN)}+`;
  // The first frame is where the fault was; the others are return addresses, one past their call.
  const offsets = report.frames.map((f, i) => [f, i]).filter(([f]) => f.startsWith(own))
    .map(([f, i]) => `0x${(BigInt(f.slice(own.length).split(' ')[0]) - (i > 0 ? 1n : 0n)).toString(16)}`);
  let resolved = [];
  try {
    resolved = execFileSync('addr2line', ['-Cfpe', BIN, ...offsets]).toString().trim().split('\n');
  } catch { /* no addr2line: the offsets alone */ }
  let k = 0;
  return report.frames.map((f) => (f.startsWith(own) && resolved[k] ? `${f}  ${resolved[k++]}` : f)).join('\n');
}

export class Service {
  constructor(env = {}, dataDir = null) {
    this.secret = env.JWT_SECRET || randomBytes(32).toString('hex');
    this.dataDir = dataDir || mkdtempSync(path.join(tmpdir(), 'isvc-it-'));
    this.ownsDir = !dataDir;
    this.extraEnv = env;
    this.output = '';
    this.stdout = '';  // stdout alone: the JSON log
    this.stderr = '';
    this.backend = { ...backendEnv(this.dataDir), ...env };
    this.bucket = this.backend.OBJECT_BACKEND === 's3' ? this.backend.S3_BUCKET_NAME : 'local';
  }

  // What GET /health must list for this instance's backends.
  expectedServices() {
    const d = this.backend.METADATA_BACKEND === 'dynamodb';
    return {
      sqlite: d ? 'disabled' : 'up', filesystem: d ? 'disabled' : 'up',
      dynamodb: d ? 'up' : 'disabled', s3: d ? 'up' : 'disabled',
      redis: this.backend.REDIS_ENDPOINT ? 'up' : 'disabled', cdn: 'disabled',
      webhooks: this.backend.WEBHOOK_URLS ? 'up' : 'disabled',
    };
  }

  async start() {
    const env = {
      ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: this.dataDir, STAGE: 'dev',
      // The suite uploads far more than 10 images a minute per user: limits are off unless a
      // test turns them on (ratelimit.test.mjs).
      RATE_LIMITS_ENABLED: 'false',
      JWT_SECRET: this.secret, LOG_LEVEL: 'info', ...this.backend,
    };
    // ISVC_TLS_CERT/ISVC_TLS_KEY (set by run-tls.mjs, with NODE_EXTRA_CA_CERTS for fetch): the
    // suite runs against the TLS listener.
    if (process.env.ISVC_TLS_CERT && !('TLS_CERT_FILE' in this.backend)) {
      env.TLS_CERT_FILE = process.env.ISVC_TLS_CERT;
      env.TLS_KEY_FILE = process.env.ISVC_TLS_KEY;
    }
    if (env.METADATA_BACKEND === 'dynamodb' || env.OBJECT_BACKEND === 's3') execFileSync(BIN, ['provision'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    // serveArgs: extra arguments for `serve` (e.g. ['--config', file]).
    this.proc = spawn(BIN, ['serve', ...(this.serveArgs || [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stderr.on('data', (d) => { this.output += d; this.stderr += d; });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 20 s:\n${this.output}`)), 20000);
      let pending = '';
      this.proc.stdout.on('data', (d) => {
        this.output += d;
        this.stdout += d;
        pending += d;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          try {
            const j = JSON.parse(line);
            if (j.event === 'listening') {
              this.port = j.port;
              this.tls = Boolean(j.tls);
              this.base = `${this.tls ? 'https' : 'http'}://127.0.0.1:${j.port}`;
              clearTimeout(timer);
              resolve();
            }
          } catch { /* not JSON: keep it for diagnostics */ }
        }
      });
      this.exited.then(({ code }) => reject(new Error(`exited early (${code}):\n${this.output}`)));
    });
    return this;
  }

  async stop({ signal = 'SIGTERM', keepData = false } = {}) {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const r = await this.exited;
    // An exit the caller did not ask for (a crash while stopping): say how, with the last output,
    // where the assertion on the exit code cannot.
    if (r.code !== 0 && signal !== 'SIGKILL') {
      console.log(`service ${this.proc.pid} stopped with ${JSON.stringify(r)}; its last output:\n${this.output.slice(-3000)}`);
      const stack = resolveCrash(this.output);
      if (stack) console.log(`its crash report, resolved:\n${stack}`);
    }
    if (this.ownsDir && !keepData) rmSync(this.dataDir, { recursive: true, force: true });
    return r;
  }

  // The service's JSON log lines that satisfy `predicate`, once there are at least `count` of
  // them (the log is written asynchronously, after the response; fails after `ms`).
  async logLines(predicate, { count = 1, ms = 5000 } = {}) {
    const deadline = Date.now() + ms;
    for (;;) {
      const lines = this.output.split('\n').filter((l) => l.startsWith('{')).map((l) => {
        try { return JSON.parse(l); } catch { return null; }
      }).filter((j) => j && predicate(j));
      if (lines.length >= count) return lines;
      if (Date.now() > deadline) throw new assert.AssertionError({ message: `${count} log line(s) not seen within ${ms} ms; saw ${lines.length}:\n${this.output.slice(-2000)}` });
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // Resolves once the access-log line of the response with this request id has been written:
  // every line the request's handler logged is then in `output` too (one ordered queue).
  async logCaughtUp(requestId, ms = 5000) {
    await this.logLines((j) => j.event === 'http_request' && j.requestId === requestId, { ms });
  }

  token(sub, role = undefined, extra = {}) {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub, iat: now, exp: now + 3600, ...extra };
    if (role) claims.role = role;
    return signHs256(this.secret, claims);
  }

  async req(method, p, { token, body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload = body;
    if (body !== undefined && !(body instanceof FormData) && !Buffer.isBuffer(body) && typeof body !== 'string') {
      payload = JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    let res;
    try {
      res = await fetch(this.base + p, { method, headers: h, body: payload });
    } catch (e) {
      // fetch() says only "fetch failed": name the cause and whether the service is still up.
      const state = this.proc.exitCode !== null || this.proc.signalCode ? `service exited (${this.proc.exitCode ?? this.proc.signalCode})` : 'service running';
      throw new Error(`${method} ${p}: ${e.message}: ${e.cause?.code || ''} ${e.cause?.message || ''}; ${state}\n${this.output.slice(-1500)}`);
    }
    const buf = Buffer.from(await res.arrayBuffer());
    let json = null;
    if ((res.headers.get('content-type') || '').includes('json') && buf.length) json = JSON.parse(buf.toString());
    // Every response must agree with openapi/openapi.yaml (lib/contract.mjs).
    const violation = await contractViolation(method, new URL(this.base + p).pathname, res.status, res.headers.get('content-type'), json);
    if (violation) throw new assert.AssertionError({ message: `OpenAPI contract: ${violation}` });
    return { status: res.status, headers: res.headers, json, buf };
  }

  async upload(token, file, fields = {}, filename = 'photo.png') {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
    }
    if (file !== null) form.append('file', new Blob([file]), filename);
    return this.req('POST', '/images', { token, body: form });
  }
}
