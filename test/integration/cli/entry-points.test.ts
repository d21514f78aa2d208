/**
 * The entry points as a newcomer meets them: the system Node (unsupported
 * here) is refused at once with the versions needed and found; the bundled
 * Node runs the sources through bin/spiffe-sidecar.js, `npx` and `npm exec`
 * without npm warnings; --version and version print the version facts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { SUPPORTED_NODE_RANGE, isSupportedNode } from '../../../sidecar/cli/node-support.ts';
import { TESTED_SPIRE_VERSION } from '../../../sidecar/cli/version.ts';
import { tempDir } from '../../support/sidecar-harness.ts';
import { requireTools } from '../../support/tools.ts';
import { bin, bundledNode, hasStackTrace, repo, runProcess, systemNode, systemPath } from './cli-process.ts';

const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const bundledVersion = spawnSync(bundledNode, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();

/** The system node and its version when it is an unsupported one (the case to test); undefined after skipping. */
function unsupportedSystemNode(t: import('node:test').TestContext): { node: string; version: string } | undefined {
  if (!requireTools(t, ['node'])) return undefined;
  const node = systemNode();
  assert.ok(node, 'node is on PATH outside node_modules');
  const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  if (isSupportedNode(version)) {
    t.skip(`the system node ${version} is supported; nothing to refuse`);
    return undefined;
  }
  return { node, version };
}

function assertRefused(r: { status: number | null; stdout: string; stderr: string }, version: string, why: string): void {
  assert.equal(r.status, 2, `${why}: ${r.stderr}`);
  assert.equal(r.stdout, '', why);
  assert.ok(r.stderr.startsWith(`spiffe-sidecar: needs Node.js ${SUPPORTED_NODE_RANGE}, found ${version} (`), `${why}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /getTime|Unknown file extension|ERR_/, why);
  assert.ok(!hasStackTrace(r.stderr), `${why}: no stack trace`);
}

test('the system Node (unsupported) is refused at once by bin/spiffe-sidecar.js, whatever the command', async (t) => {
  const sys = unsupportedSystemNode(t);
  if (!sys) return;
  const rows: string[][] = [
    ['--version'],
    ['version'],
    ['demo', '--once'],
    ['dev-agent', '--trust-domain', 'example.org', '--workload', '/tmp/never-created.sock=spiffe://example.org/w'],
    ['run', '--config', 'missing.yaml'],
    ['policy', 'lint', 'missing.yaml'],
    ['no-such-command'],
  ];
  for (const args of rows) {
    const r = await runProcess(sys.node, [bin, ...args], { cleanup: t, env: { ...process.env, PATH: systemPath() } });
    assertRefused(r, sys.version, args.join(' '));
  }
});

test('the system Node is refused by a compiled main.js too (an installed package runs dist/)', async (t) => {
  const sys = unsupportedSystemNode(t);
  if (!sys) return;
  // What `npm run build` makes of the two modules main.js evaluates before the check.
  const dir = tempDir(t, 'cli-compiled-');
  mkdirSync(join(dir, 'cli'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  for (const name of ['main', 'node-support']) {
    const source = readFileSync(join(repo, 'sidecar', 'cli', `${name}.ts`), 'utf8');
    const js = stripTypeScriptTypes(source).replace(/(['"]\.\/[\w-]+)\.ts(['"])/g, '$1.js$2');
    writeFileSync(join(dir, 'cli', `${name}.js`), js);
  }
  const r = await runProcess(sys.node, [join(dir, 'cli', 'main.js'), 'demo', '--once'], { cleanup: t, env: { ...process.env, PATH: systemPath() } });
  assertRefused(r, sys.version, 'compiled main.js');
});

test('main.ts evaluates nothing before the check but node-support.ts, which imports nothing', () => {
  const imports = (file: string): string[] =>
    [...readFileSync(join(repo, 'sidecar', 'cli', file), 'utf8').matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  assert.deepEqual(imports('main.ts'), ['./node-support.ts']);
  assert.deepEqual(imports('node-support.ts'), []);
});

test('--version and version print the package version, the Node.js and the Workload API level', async (t) => {
  const want = `spiffe-sidecar ${pkg.version}\nNode.js ${bundledVersion}\nSPIFFE Workload API v1 (tested against SPIRE ${TESTED_SPIRE_VERSION})\n`;
  for (const args of [['--version'], ['version']]) {
    const r = await runProcess(bundledNode, [bin, ...args], { cleanup: t });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, want, args.join(' '));
    assert.equal(r.stderr, '', args.join(' '));
  }
  const json = await runProcess(bundledNode, [bin, 'version', '--output', 'json'], { cleanup: t });
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { version: pkg.version, node: bundledVersion, workloadApi: 'SPIFFE Workload API v1', testedSpire: TESTED_SPIRE_VERSION });
});

test('npx spiffe-sidecar and npm exec run the checkout on the bundled Node, with no npm warnings', async (t) => {
  if (!requireTools(t, ['npx', 'npm'])) return;
  const env = { ...process.env, PATH: systemPath() };
  const rows: Array<[string, string[]]> = [
    ['npx', ['--offline', 'spiffe-sidecar', '--version']],
    ['npm', ['exec', '--offline', '--', 'spiffe-sidecar', 'version']],
  ];
  for (const [command, args] of rows) {
    const r = await runProcess(command, args, { cleanup: t, env });
    const what = `${command} ${args.join(' ')}`;
    assert.equal(r.status, 0, `${what}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^spiffe-sidecar ${pkg.version.replaceAll('.', '\\.')}\\nNode\\.js ${bundledVersion.replaceAll('.', '\\.')}\\n`), what);
    assert.equal(r.stderr, '', `${what}: npm prints nothing (no EBADENGINE warning)`);
  }
});
