// Runs a command with dynalite (DynamoDB; or AWS's DynamoDB Local with ISVC_DYNAMODB_ENGINE=local),
// s3rver (S3) and redis-server started on free loopback ports, their endpoints in
// ISVC_DYNAMODB_ENDPOINT, ISVC_S3_ENDPOINT and ISVC_REDIS_ENDPOINT, and stops them afterwards.
// Exits with the command's status.
//   [ISVC_DYNAMODB_ENGINE=local] node with-engines.mjs <command> [args…]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dynamoEngineKind, startEngine, startRedis } from './lib/engines.mjs';

export async function withEngines(command, args, options = {}) {
  const s3dir = mkdtempSync(path.join(tmpdir(), 'isvc-s3rver-'));
  const engines = [];
  try {
    const dynamo = await startEngine(dynamoEngineKind());
    engines.push(dynamo);
    const s3 = await startEngine('s3rver', [s3dir]);
    engines.push(s3);
    const env = { ...process.env, ISVC_DYNAMODB_ENDPOINT: dynamo.endpoint, ISVC_S3_ENDPOINT: s3.endpoint };
    const redis = await startRedis();
    if (redis) {
      engines.push(redis);
      env.ISVC_REDIS_ENDPOINT = redis.endpoint;
    }
    console.log(`engines: dynamodb (${dynamo.kind}) ${dynamo.endpoint}, s3 ${s3.endpoint}, redis ${redis ? redis.endpoint : 'none (redis-server not installed)'}`);
    const child = spawn(command, args, { env, stdio: 'inherit', ...options });
    return await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  } finally {
    for (const e of engines) await e.stop();
    rmSync(s3dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, ...args] = process.argv.slice(2);
  process.exit(await withEngines(command, args));
}
