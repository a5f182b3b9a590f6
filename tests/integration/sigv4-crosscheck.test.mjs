// Our SigV4 signer against an independent one (npm @smithy/signature-v4, installed into
// tests/tools by scripts/install-deps.sh) on randomised requests: same Authorization header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tools = path.resolve(here, '../tools');
const TOOL = process.env.ISVC_SIGV4_TOOL || path.join(path.dirname(BIN), 'tests/isvc_sigv4_tool');
const haveSmithy = existsSync(path.join(tools, 'node_modules/@smithy/signature-v4'));

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

test('SigV4 matches @smithy/signature-v4 on 300 random requests', { skip: !haveSmithy && 'run scripts/install-deps.sh' }, async () => {
  const require = createRequire(path.join(tools, 'package.json'));
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { Hash } = require('@smithy/hash-node');
  const { HttpRequest } = require('@smithy/protocol-http');
  const r = rng(42);
  const pick = (s) => s[Math.floor(r() * s.length)];
  // Alphabets are picked by code point (not UTF-16 unit), so no lone surrogates are produced.
  const word = (alphabet, min, max) => Array.from({ length: min + Math.floor(r() * (max - min + 1)) }, () => pick(Array.from(alphabet))).join('');
  const SAFE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~';
  const ANY = SAFE + ' !$&\'()*+,;=:@/?#[]%"é€😀';
  const cases = [];
  for (let i = 0; i < 300; i++) {
    const date = new Date(Date.UTC(2020 + Math.floor(r() * 6), Math.floor(r() * 12), 1 + Math.floor(r() * 28), Math.floor(r() * 24), Math.floor(r() * 60), Math.floor(r() * 60)));
    const amzDate = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const query = [];
    for (let q = Math.floor(r() * 4); q > 0; q--) query.push([word(ANY, 1, 8), word(ANY, 0, 10)]);
    const uniqueQuery = [...new Map(query.map(([k, v]) => [k, v])).entries()];
    const headers = [['host', `${word('abcdefghij', 3, 8)}.example.com`], ['x-amz-date', amzDate]];
    for (let h = Math.floor(r() * 4); h > 0; h--) headers.push([`x-t-${word('abcdefghij0123456789', 1, 6)}`, `${word(SAFE + ' ', 1, 12)}`.trim() || 'v']);
    const uniqueHeaders = [...new Map(headers.map(([k, v]) => [k.toLowerCase(), v])).entries()];
    const body = word(ANY, 0, 40);
    cases.push({
      method: pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']),
      path: '/' + Array.from({ length: Math.floor(r() * 4) }, () => word(SAFE, 1, 10)).join('/'),
      query: uniqueQuery, headers: uniqueHeaders, body, date,
      region: pick(['us-east-1', 'eu-west-1', 'ap-southeast-2']), service: pick(['s3', 'dynamodb', 'cloudfront']),
      accessKey: 'AKID' + word('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 12, 16), secretKey: word(SAFE + '/+', 40, 40), amzDate,
    });
  }
  const input = cases.map((c) => JSON.stringify({
    method: c.method, path: c.path, query: c.query, headers: c.headers,
    payloadHash: createHash('sha256').update(c.body).digest('hex'), region: c.region, service: c.service,
    amzDate: c.amzDate, accessKey: c.accessKey, secretKey: c.secretKey,
  })).join('\n') + '\n';
  const ours = spawnSync(TOOL, [], { input });
  assert.equal(ours.status, 0, String(ours.error ?? ours.stderr));
  const lines = ours.stdout.toString().trim().split('\n');
  assert.equal(lines.length, cases.length);
  for (const [i, c] of cases.entries()) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
      region: c.region, service: c.service, sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false, applyChecksum: false,
    });
    const query = {};
    for (const [k, v] of c.query) query[k] = v;
    const headers = Object.fromEntries(c.headers.filter(([k]) => k !== 'x-amz-date'));
    const req = new HttpRequest({ method: c.method, protocol: 'https:', hostname: headers.host, path: c.path, query, headers, body: c.body });
    const signed = await signer.sign(req, { signingDate: c.date });
    assert.equal(lines[i], signed.headers.authorization, JSON.stringify(c));
  }
});
