/**
 * Keeps the module map honest: folders import each other only through their
 * index.ts, only in the allowed direction (proxies depend on identity, never
 * the reverse), and only the CLI touches process-global state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const src = resolve(import.meta.dirname, '..', '..', 'sidecar');

/** Which folders each folder may import from (besides itself). */
const allowed: Record<string, readonly string[]> = {
  core: [],
  spiffe: ['core'],
  x509: ['core', 'spiffe'],
  bundle: ['core', 'spiffe', 'x509'],
  svid: ['core', 'spiffe', 'x509', 'bundle'],
  workload: ['core', 'spiffe', 'x509', 'bundle', 'svid'],
  tls: ['core', 'spiffe', 'x509', 'bundle', 'svid'],
  policy: ['core', 'spiffe'],
  headers: ['core', 'spiffe'],
  metrics: ['core', 'spiffe'],
  auth: ['core', 'spiffe', 'x509', 'bundle', 'svid'],
  injector: ['core', 'spiffe'],
  iptables: ['core'],
  devagent: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'workload'],
  forward: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'tls', 'headers', 'metrics'],
  enforcement: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'policy', 'headers', 'metrics', 'auth'],
  inbound: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'tls', 'policy', 'headers', 'metrics', 'forward', 'auth', 'enforcement'],
  outbound: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'tls', 'policy', 'headers', 'metrics', 'forward', 'auth', 'enforcement'],
  admin: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'metrics'],
  config: ['core', 'spiffe', 'policy', 'headers', 'tls', 'metrics', 'auth'],
};
/** Folders at the top: may import anything below, nothing imports them except the CLI. */
const top = new Set(['cli', 'demo', 'runtime', '.']);

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) files(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function folderOf(file: string): string {
  const rel = relative(src, file);
  return rel.includes(sep) ? rel.split(sep)[0]! : '.';
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

const all = files(src);

test('every source folder is in the module map', () => {
  const folders = new Set(all.map(folderOf));
  for (const f of folders) assert.ok(f in allowed || top.has(f), `sidecar/${f} is not in the module map of test/unit/architecture.test.ts`);
});

test('cross-folder imports go through index.ts and point inward', () => {
  const problems: string[] = [];
  for (const file of all) {
    const from = folderOf(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const to = folderOf(target);
      if (to === from) continue;
      const where = relative(src, file);
      if (to === '.' || top.has(to)) {
        if (!top.has(from)) problems.push(`${where} imports top-level ${spec}`);
        continue;
      }
      if (!target.endsWith(`${sep}index.ts`)) problems.push(`${where} imports ${spec}: use ${to}/index.ts`);
      if (!top.has(from) && !(allowed[from] ?? []).includes(to)) problems.push(`${where}: ${from} must not depend on ${to}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('only the CLI touches process.env, process.argv and process.exit', () => {
  const offenders = all
    .filter((f) => folderOf(f) !== 'cli')
    .filter((f) => /process\.(env|argv|exit)\b/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(src, f));
  assert.deepEqual(offenders, []);
});
