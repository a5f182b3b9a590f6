// Starts one test engine on loopback and prints "READY <port>" when it accepts connections:
//   node engine.mjs dynalite [port] [dataDir]   (dataDir: persist across restarts)
//   node engine.mjs dynamodb-local [port] [dataDir]   (AWS's DynamoDB Local, Java; same usage)
//   node engine.mjs s3rver <dataDir> [port]
//   node engine.mjs redis                        (redis-server from Debian, no persistence)
// It stops when its stdin closes (so it never outlives the test that started it) or on SIGTERM.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

const [kind, ...rest] = process.argv.slice(2);
let server;
if (kind === 'dynalite') {
  const dynalite = require('dynalite');
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(rest[1] ? { path: rest[1] } : {}) });
  server.listen(Number(rest[0] ?? 0), '127.0.0.1', () => ready(server.address().port));
} else if (kind === 'dynamodb-local') {
  const { startDynamoDbLocal } = await import('./dynamodb-local.mjs');
  const local = await startDynamoDbLocal(Number(rest[0] ?? 0), rest[1]);
  server = { close: (cb) => local.stop().then(cb, cb) };
  ready(local.port);
} else if (kind === 's3rver') {
  const S3rver = require('s3rver');
  const s3 = new S3rver({ directory: rest[0], address: '127.0.0.1', port: Number(rest[1] ?? 0), silent: true });
  const { port } = await s3.run();
  server = { close: (cb) => s3.close().then(cb, cb) };
  ready(port);
} else if (kind === 'redis') {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    if (out.includes('Ready to accept connections') && !server) {
      server = { close: (cb) => { proc.once('exit', cb); proc.kill('SIGTERM'); } };
      ready(port);
    }
  });
  proc.on('exit', (c) => { if (!server) { console.error(out); process.exit(c ?? 1); } });
} else {
  console.error('usage: engine.mjs dynalite|dynamodb-local [port] [dir] | s3rver <dir> [port] | redis');
  process.exit(2);
}

function ready(port) {
  process.stdout.write(`READY ${port}\n`);
}
function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
