#!/usr/bin/env node
// The `spiffe-sidecar` command (package.json "bin"). Plain JavaScript that
// any Node.js with ES modules parses, so that every Node reaches either the
// CLI's own version check (sidecar/cli/node-support.ts, the first thing
// sidecar/cli/main.ts runs) or the message below, never a confusing error.
//
// Which code it runs: in a source checkout, the TypeScript sources (Node's
// type stripping), so a stale dist/ from an old `npm run build` is never
// run by mistake; in an installed package, which ships no sources, or where
// Node refuses to strip types (under node_modules), the bundle dist/bin/
// that `npm run build` makes (bin/build.js).
// The image (Dockerfile) has no sources, so production runs the bundle.
//
// V8 flags: `run` needs the heap flags of bin/node-flags.js, and V8 sizes
// its heap when the process starts (v8.setFlagsFromString cannot shrink it
// later); likewise glibc reads its malloc settings (SIDECAR_ENV there) only
// at start. So when a flag is missing from the command line and
// NODE_OPTIONS, or a variable from the environment, the launcher replaces
// itself with `node <flags> <this file> run ...` and the variables added
// (process.execve: same pid, same stdio, signals and exit status, no second
// process holding memory). That costs one more Node start-up (~40 ms); the
// Dockerfile passes the flags to node and sets the variables directly and
// never pays it.
import { existsSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingEnv, missingNodeFlags } from './node-flags.js';

const root = new URL('../', import.meta.url);
const sources = new URL('sidecar/cli/main.ts', root);
const compiled = new URL('dist/bin/main.js', root);

function pick() {
  const haveSources = existsSync(fileURLToPath(sources));
  const haveCompiled = existsSync(fileURLToPath(compiled));
  const installed = fileURLToPath(root).split(sep).includes('node_modules');
  if (haveSources && !(installed && haveCompiled)) return sources;
  return haveCompiled ? compiled : undefined;
}

function supportedRange() {
  try {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    return pkg.engines && typeof pkg.engines.node === 'string' ? pkg.engines.node : 'a newer version';
  } catch {
    return 'a newer version';
  }
}

const entry = pick();
if (entry === undefined) {
  process.stderr.write(
    'spiffe-sidecar: found neither sidecar/cli/main.ts nor dist/bin/main.js next to bin/; ' +
      'in a checkout run `npm ci`, in a package run `npm run build`\n',
  );
  process.exitCode = 70;
} else if (entry === sources && !process.features.typescript) {
  // Node before 22.18 (and 23.6) cannot load .ts files at all: it would stop
  // with "Unknown file extension .ts" before the CLI's check could run.
  process.stderr.write(
    `spiffe-sidecar: needs Node.js ${supportedRange()}, found ${process.versions.node} (${process.execPath}).\n` +
      'In a source checkout, `npm ci` installs Node 24 into node_modules; `npx spiffe-sidecar` and the make targets use it.\n',
  );
  process.exitCode = 2;
} else {
  const args = process.argv.slice(2);
  const run = args[0] === 'run';
  const missing = run ? missingNodeFlags(process.execArgv, process.env.NODE_OPTIONS) : [];
  const env = run ? missingEnv(process.env) : {};
  // process.execve is missing on Windows; there the sidecar runs with V8's and the C library's defaults.
  if ((missing.length > 0 || Object.keys(env).length > 0) && typeof process.execve === 'function') {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, fileURLToPath(import.meta.url), ...args], { ...process.env, ...env });
  }
  await import(entry.href);
}
