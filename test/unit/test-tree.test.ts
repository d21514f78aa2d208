/**
 * Keeps the test tree's conventions (CONTRIBUTING.md, "Where tests go")
 * checked rather than remembered: every file name under test/ is unique,
 * unit tests start no processes (nor do the test helpers they import), and
 * there is one test style, top-level `test()`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

const testRoot = resolve(import.meta.dirname, '..');

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const all = tsFiles(testRoot);
const rel = (p: string): string => relative(testRoot, p);

/** Relative imports of `file` that stay under test/ (the product's own modules are not the test tree's business). */
function testImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const target = resolve(dirname(file), m[1] ?? m[2]!);
    if (target.startsWith(testRoot + '/')) out.push(target);
  }
  return out;
}

const SPAWNS = /from\s+['"](?:node:)?child_process['"]|require\(\s*['"](?:node:)?child_process['"]\s*\)/;

test('every file name under test/ is unique', () => {
  const seen = new Map<string, string>();
  const clashes: string[] = [];
  for (const f of all) {
    const name = basename(f);
    const first = seen.get(name);
    if (first === undefined) seen.set(name, rel(f));
    else clashes.push(`${name}: ${first} and ${rel(f)}`);
  }
  assert.deepEqual(clashes, []);
});

test('unit tests start no processes, directly or through a test helper they import', () => {
  const offenders: string[] = [];
  for (const f of all.filter((x) => rel(x).startsWith('unit/'))) {
    // Depth-first over the test-side import graph; each file read once.
    const stack = [f];
    const visited = new Set<string>();
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (visited.has(cur)) continue;
      visited.add(cur);
      let text: string;
      try {
        text = readFileSync(cur, 'utf8');
      } catch {
        continue;
      }
      if (SPAWNS.test(text)) {
        offenders.push(cur === f ? rel(f) : `${rel(f)} (via ${rel(cur)})`);
        break;
      }
      stack.push(...testImports(cur, text));
    }
  }
  assert.deepEqual(offenders, [], 'move these to test/integration/ (CONTRIBUTING.md, "Where tests go")');
});

test('one test style: top-level test() from node:test, no describe/it', () => {
  const offenders = all.filter((f) => /import\s*\{[^}]*\b(?:describe|it|suite)\b[^}]*\}\s*from\s*['"]node:test['"]/.test(readFileSync(f, 'utf8'))).map(rel);
  assert.deepEqual(offenders, []);
});
