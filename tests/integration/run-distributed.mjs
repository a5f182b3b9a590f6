// Runs the HTTP integration suite in distributed mode: every Service of the suite uses the
// DynamoDB engine (dynalite, or DynamoDB Local with ISVC_DYNAMODB_ENGINE=local), s3rver and
// redis-server that with-engines.mjs starts (see lib/server.mjs). Only the files whose outcome
// the backends can change run (lib/passes.mjs; ISVC_SUITE=all runs every file).
//   [ISVC_DYNAMODB_ENGINE=local] node run-distributed.mjs *.test.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { names, runnerArgs, select } from './lib/passes.mjs';
import { withEngines } from './with-engines.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { run, left } = select('distributed', process.argv.slice(2).map((f) => path.resolve(f)));
console.log(`distributed: ${names(run)}`);
console.log(`left out (settled at the edge, before any store): ${names(left)}`);
// The suite runs from this directory: paths given relative to the caller are made absolute.
for (const k of ['ISVC_BIN', 'ISVC_SIGV4_TOOL', 'ISVC_THUMBHASH_TOOL', 'ISVC_TESTDATA'])
  if (process.env[k]) process.env[k] = path.resolve(process.env[k]);
process.exit(await withEngines(process.execPath, [...runnerArgs, ...run], { cwd: here }));
