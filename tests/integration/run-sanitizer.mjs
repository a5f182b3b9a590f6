// Runs the HTTP integration suite against a sanitizer build of the server (ISVC_BIN, set by
// scripts/test.sh): every file except those lib/passes.mjs leaves out of this pass
// (ISVC_SUITE=all runs every file).
//   ISVC_BIN=build/asan/image-service node run-sanitizer.mjs *.test.mjs
import { spawn } from 'node:child_process';
import { names, runnerArgs, select } from './lib/passes.mjs';

const { run, left } = select('sanitizer', process.argv.slice(2));
console.log(`sanitizer pass: ${names(run)}`);
console.log(`left out (their time is spent outside the server): ${names(left)}`);
const child = spawn(process.execPath, [...runnerArgs, ...run], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
