#!/usr/bin/env node
// The layer check of `make test` (docs/architecture.md): reads every #include "…" under src/ and
// fails when a folder includes one it may not, or when the folder graph has a cycle.
//   http → api → domain ← adapters (storage, imaging, cache, cdn, auth, aws, migrate, webhooks);
//   app/ wires.
// domain/ports/ belongs to domain; domain/model/ is the vocabulary below it; base/ and obs/ are
// shared by every layer. CMake enforces the same edges with one include root per module; this
// check also catches an edge that a module's transitive dependencies would let through.
//   node scripts/check-layers.mjs [srcDir]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src'));

const shared = ['base', 'obs'];
const core = ['domain', 'domain/model', ...shared];
// Who may include whom (besides itself). base and obs include nothing of ours but base.
const allowed = {
  base: [],
  obs: ['base'],
  'domain/model': ['base'],
  domain: ['domain/model', ...shared],
  http: ['domain/model', ...shared],
  api: ['http', 'auth', ...core],
  auth: core,
  aws: core,
  storage: ['aws', ...core],
  cdn: ['aws', ...core],
  cache: core,
  imaging: core,
  migrate: core,
  webhooks: core,
  app: null,  // the wiring sees everything
  '.': ['app'],  // main.cpp
};

function folderOf(rel) {
  const dir = path.dirname(rel);
  if (dir === '.') return '.';
  if (dir.startsWith('domain/model')) return 'domain/model';
  return dir.split('/')[0];
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(h|cpp)$/.test(name)) yield p;
  }
}

const errors = [];
const edges = new Map();  // folder → Set(folder)
for (const file of files(root)) {
  const rel = path.relative(root, file);
  const from = folderOf(rel);
  if (!(from in allowed)) errors.push(`${rel}: folder ${from} is not in the layer table (scripts/check-layers.mjs)`);
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
    if (!m) return;
    const target = m[1];
    if (!target.includes('/')) return;  // a header beside the file
    const to = folderOf(target);
    if (to === from) return;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from).add(to);
    const ok = allowed[from];
    if (ok !== null && ok !== undefined && !ok.includes(to))
      errors.push(`${rel}:${i + 1}: ${from}/ may not include ${target} (${to}/); allowed: ${ok.join(', ') || 'nothing'}`);
  });
}

// A cycle in the folder graph, if any (depth-first search).
const state = new Map();
const stack = [];
function visit(n) {
  state.set(n, 'open');
  stack.push(n);
  for (const m of edges.get(n) ?? []) {
    if (state.get(m) === 'open') {
      errors.push(`folder cycle: ${[...stack.slice(stack.indexOf(m)), m].join(' → ')}`);
    } else if (!state.has(m)) visit(m);
  }
  stack.pop();
  state.set(n, 'done');
}
for (const n of edges.keys()) if (!state.has(n)) visit(n);

if (errors.length) {
  for (const e of errors) console.error(`check-layers: ${e}`);
  process.exit(1);
}
const n = [...edges.values()].reduce((a, s) => a + s.size, 0);
console.log(`check-layers: ${edges.size} folders, ${n} edges, all in the allowed direction, no cycle`);
