/**
 * The package's three entry points (package.json "exports"): the library
 * root `spiffe-sidecar`, `spiffe-sidecar/dev` with the development Workload
 * API, and `spiffe-sidecar/testing` with the test harness. What is moved to
 * /dev or /testing must be reachable there and no longer from the root, so
 * production code cannot pick up the dev CA or a manual clock by accident.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as root from '../../../sidecar/index.ts';
import * as dev from '../../../sidecar/dev.ts';
import * as testing from '../../../sidecar/testing.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..', '..');
const entries: Record<string, Record<string, unknown>> = { dev, testing };

test('each name lives in exactly its entry point, and the root does not reach it', () => {
  const rows: { name: string; entry: 'dev' | 'testing' }[] = [
    { name: 'DevAgent', entry: 'dev' },
    { name: 'CertificateAuthority', entry: 'dev' },
    { name: 'JwtAuthority', entry: 'dev' },
    { name: 'ManualClock', entry: 'testing' },
    { name: 'SidecarProcess', entry: 'testing' },
    { name: 'metricValue', entry: 'testing' },
    { name: 'httpCall', entry: 'testing' },
    { name: 'freePorts', entry: 'testing' },
  ];
  for (const row of rows) {
    assert.equal(typeof entries[row.entry]![row.name], 'function', `${row.name} is exported by spiffe-sidecar/${row.entry}`);
    assert.equal(row.name in root, false, `${row.name} is not exported by the library root`);
  }
});

test('the root and the side entries share no runtime name', () => {
  for (const [entry, names] of Object.entries(entries)) {
    const shared = Object.keys(names).filter((n) => n in root);
    assert.deepEqual(shared, [], `spiffe-sidecar/${entry} and spiffe-sidecar both export ${shared.join(', ')}`);
  }
});

test('the root keeps what a library user builds SPIFFE mTLS from', () => {
  for (const name of ['X509Source', 'JwtSource', 'SpiffeId', 'TrustDomain', 'createMtlsServer', 'MtlsAgent', 'authorizeId', 'peerIdentity', 'SidecarError']) {
    assert.equal(typeof (root as Record<string, unknown>)[name], 'function', name);
  }
  assert.equal(typeof root.systemClock.now, 'function', 'systemClock, the default Clock');
});

test('package.json "exports" maps each entry to the build output of its source file', () => {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  const build = JSON.parse(readFileSync(join(projectRoot, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string }; include: string[] };
  // tsc writes sidecar/<name>.ts to dist/<name>.js and .d.ts (rootDir → outDir).
  assert.equal(build.compilerOptions.rootDir, 'sidecar');
  assert.equal(build.compilerOptions.outDir, 'dist');
  assert.ok(build.include.includes('sidecar'));
  const expected: Record<string, string> = { '.': 'index', './dev': 'dev', './testing': 'testing' };
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(expected).sort());
  for (const [subpath, name] of Object.entries(expected)) {
    assert.deepEqual(pkg.exports[subpath], { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` }, subpath);
    assert.ok(existsSync(join(projectRoot, 'sidecar', `${name}.ts`)), `sidecar/${name}.ts exists for ${subpath}`);
  }
});
