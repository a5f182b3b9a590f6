// Starts the real image-service binary on a free port with a fresh DATA_DIR, mints tokens with an
// independent HS256 implementation, and stops the process afterwards.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

const b64url = (b) => Buffer.from(b).toString('base64url');

export function signHs256(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export class Service {
  constructor(env = {}, dataDir = null) {
    this.secret = env.JWT_SECRET || randomBytes(32).toString('hex');
    this.dataDir = dataDir || mkdtempSync(path.join(tmpdir(), 'isvc-it-'));
    this.ownsDir = !dataDir;
    this.extraEnv = env;
    this.output = '';
  }

  async start() {
    const env = {
      ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: this.dataDir, STAGE: 'dev',
      JWT_SECRET: this.secret, LOG_LEVEL: 'info', ...this.extraEnv,
    };
    this.proc = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stderr.on('data', (d) => { this.output += d; });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 20 s:\n${this.output}`)), 20000);
      let pending = '';
      this.proc.stdout.on('data', (d) => {
        this.output += d;
        pending += d;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          try {
            const j = JSON.parse(line);
            if (j.event === 'listening') {
              this.port = j.port;
              this.base = `http://127.0.0.1:${j.port}`;
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
    if (this.ownsDir && !keepData) rmSync(this.dataDir, { recursive: true, force: true });
    return r;
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
    const res = await fetch(this.base + p, { method, headers: h, body: payload });
    const buf = Buffer.from(await res.arrayBuffer());
    let json = null;
    if ((res.headers.get('content-type') || '').includes('json') && buf.length) json = JSON.parse(buf.toString());
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
