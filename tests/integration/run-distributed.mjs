// Runs the HTTP integration suite in distributed mode: starts dynalite (DynamoDB) and s3rver (S3)
// — and redis-server when it is installed — on free loopback ports, points every Service of the
// suite at them (lib/server.mjs), runs `node --test` on the given files and stops the engines.
//   node run-distributed.mjs *.test.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEngine, startRedis } from './lib/engines.mjs';

const WITH_REDIS = true;  // redis-server from Debian (install-deps); skipped only when absent
const here = path.dirname(fileURLToPath(import.meta.url));
const files = process.argv.slice(2);
const s3dir = mkdtempSync(path.join(tmpdir(), 'isvc-s3rver-'));
const engines = [];
let code = 1;
try {
  const dynamo = await startEngine('dynalite');
  engines.push(dynamo);
  const s3 = await startEngine('s3rver', [s3dir]);
  engines.push(s3);
  const env = { ...process.env, ISVC_DYNAMODB_ENDPOINT: dynamo.endpoint, ISVC_S3_ENDPOINT: s3.endpoint };
  const redis = WITH_REDIS ? await startRedis() : null;
  if (redis) {
    engines.push(redis);
    env.ISVC_REDIS_ENDPOINT = redis.endpoint;
  }
  console.log(`distributed mode: dynamodb ${dynamo.endpoint}, s3 ${s3.endpoint}, redis ${redis ? redis.endpoint : 'none'}`);
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { env, stdio: 'inherit', cwd: here });
  code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
} finally {
  for (const e of engines) await e.stop();
  rmSync(s3dir, { recursive: true, force: true });
}
process.exit(code);
