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
  exchange: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'auth'],
  injector: ['core', 'spiffe'],
  iptables: ['core'],
  transparent: ['core'],
  audit: ['core'],
  devagent: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'workload'],
  http1: ['core'],
  forward: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'tls', 'headers', 'metrics', 'http1'],
  tracing: ['core', 'forward'],
  enforcement: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'policy', 'headers', 'metrics', 'auth'],
  inbound: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'tls', 'policy', 'headers', 'metrics', 'forward', 'auth', 'enforcement', 'transparent'],
  outbound: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'tls', 'policy', 'headers', 'metrics', 'forward', 'auth', 'enforcement', 'transparent', 'exchange'],
  admin: ['core', 'spiffe', 'x509', 'bundle', 'svid', 'metrics'],
  config: ['core', 'spiffe', 'policy', 'headers', 'tls', 'metrics', 'auth', 'exchange'],
};
/** Folders at the top: may import anything below, nothing imports them except the CLI. */
const top = new Set(['cli', 'demo', 'lifecycle', 'check', '.']);

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

/**
 * Cycles among the files of one folder that are tolerated for now, one entry
 * per cycle with the reason. A cycle found passes when all its files are in
 * one entry, so breaking part of a cycle never fails this test; narrow or
 * delete the entry when that happens. Paths are relative to sidecar/.
 */
const toleratedTypeCycles: readonly (readonly string[])[] = [];

/**
 * Only `import type` / `export type` statements are erased before Node runs
 * the file. An inline `import { type X }` still loads the module (it becomes
 * `import {} from`), so it counts as a runtime edge.
 */
const typeOnlyRe = /^\s*(?:import|export)\s+type[\s{*]/;

interface Edge {
  readonly to: string;
  readonly typeOnly: boolean;
}

/** Same-folder import edges of every source file, keyed by path relative to sidecar/. */
function sameFolderEdges(): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const file of all) {
    const edges: Edge[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (folderOf(target) !== folderOf(file)) continue;
      edges.push({ to: relative(src, target), typeOnly: m[1] !== undefined && typeOnlyRe.test(m[0]) });
    }
    graph.set(relative(src, file), edges);
  }
  return graph;
}

/**
 * Strongly connected components with more than one file, or one file that
 * imports itself (Tarjan's algorithm), each sorted. `runtimeOnly` drops the
 * type-only edges first.
 */
function importCycles(graph: ReadonlyMap<string, readonly Edge[]>, runtimeOnly: boolean): string[][] {
  const next = (v: string): string[] =>
    (graph.get(v) ?? []).filter((e) => !(runtimeOnly && e.typeOnly)).map((e) => e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || next(v).includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

test('no import cycles between files of one folder', () => {
  // The finder itself, on a graph small enough to check by eye: a→b→a is a
  // runtime cycle; c→d→c closes only through a type-only edge; e stands alone.
  const sample = new Map<string, Edge[]>([
    ['a', [{ to: 'b', typeOnly: false }]],
    ['b', [{ to: 'a', typeOnly: false }, { to: 'c', typeOnly: false }]],
    ['c', [{ to: 'd', typeOnly: false }]],
    ['d', [{ to: 'c', typeOnly: true }]],
    ['e', [{ to: 'e', typeOnly: true }]],
  ]);
  assert.deepEqual(importCycles(sample, true), [['a', 'b']]);
  assert.deepEqual(importCycles(sample, false).sort(), [['a', 'b'], ['c', 'd'], ['e']]);

  // Which statements count as type-only: only the erased forms.
  for (const [statement, typeOnly] of [
    ["import type { A } from './a.ts'", true],
    ["export type { A } from './a.ts'", true],
    ["import { type A } from './a.ts'", false],
    ["import { A, type B } from './a.ts'", false],
    ["export { A } from './a.ts'", false],
  ] as const) {
    assert.equal(typeOnlyRe.test(statement), typeOnly, statement);
  }

  const graph = sameFolderEdges();
  // A runtime cycle makes evaluation order decide which import is still
  // uninitialised when a module body runs (a TDZ error or an undefined class
  // at load time), so none is tolerated.
  const runtime = importCycles(graph, true).map((c) => `runtime import cycle: ${c.join(' → ')}`);
  assert.deepEqual(runtime, []);
  // Type-only cycles cannot fail at load time, but their files can be neither
  // read nor changed one at a time, so each must be listed above with a reason.
  const untolerated = importCycles(graph, false)
    .filter((c) => !toleratedTypeCycles.some((entry) => c.every((f) => entry.includes(f))))
    .map((c) => `import cycle (type-only edges included): ${c.join(' → ')}`);
  assert.deepEqual(untolerated, []);
});
