/**
 * The entry points as a newcomer meets them: the system Node (unsupported
 * here) is refused at once with the versions needed and found; the bundled
 * Node runs the sources through bin/spiffe-sidecar.js, `npx` and `npm exec`
 * without npm warnings; --version and version print the version facts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { SUPPORTED_NODE_RANGE, isSupportedNode } from '../../../sidecar/cli/node-support.ts';
import { TESTED_SPIRE_VERSION } from '../../../sidecar/cli/version.ts';
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from '../../../bin/node-flags.js';
import { eventually, tempDir } from '../../support/sidecar-harness.ts';
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

/** The paths `pid` has open. */
function openFiles(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/**
 * Starts `bin/spiffe-sidecar.js run` with its configuration file a FIFO that
 * nobody writes, so the process waits for it, and returns the command line
 * and environment it has once it runs the CLI (after the launcher's
 * re-exec, which keeps the pid): from /proc.
 */
async function launchedProcess(t: import('node:test').TestContext, nodeArgs: readonly string[], env: NodeJS.ProcessEnv): Promise<{ argv: string[]; env: Map<string, string> }> {
  const dir = tempDir(t);
  const fifo = join(dir, 'config.yaml');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // Held open read-write (never blocks on Linux), so the sidecar's open returns and its read waits.
  const hold = openSync(fifo, fsConstants.O_RDWR);
  const child = spawn(bundledNode, [...nodeArgs, bin, 'run', '--config', fifo], { env, stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
    closeSync(hold);
  });
  const proc = `/proc/${child.pid}`;
  // The CLI opened the FIFO: past the launcher (and its re-exec, if any).
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`the sidecar exited (${child.exitCode}) instead of waiting for its configuration`);
      return openFiles(child.pid!).includes(fifo);
    },
    () => `the sidecar never opened its configuration: ${readFileSync(`${proc}/cmdline`, 'utf8').replaceAll('\0', ' ')}`,
  );
  const argv = readFileSync(`${proc}/cmdline`, 'utf8').split('\0').slice(0, -1);
  const environ = readFileSync(`${proc}/environ`, 'utf8').split('\0').filter((e) => e.includes('='));
  return { argv, env: new Map(environ.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) };
}

test('the launcher runs `run` with the V8 flags and environment of bin/node-flags.js; values given win', async (t) => {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(SIDECAR_ENV)) delete base[k];
  delete base['NODE_OPTIONS'];

  // Nothing given: the re-exec adds every flag (once) and every variable.
  const plain = await launchedProcess(t, [], base);
  for (const f of SIDECAR_NODE_FLAGS) assert.equal(plain.argv.filter((a) => a === f).length, 1, `${f} in ${plain.argv.join(' ')}`);
  for (const [k, v] of Object.entries(SIDECAR_ENV)) assert.equal(plain.env.get(k), v, k);

  // Flags given (as the image's ENTRYPOINT does) but not the environment: it is still added.
  const flagsOnly = await launchedProcess(t, SIDECAR_NODE_FLAGS, base);
  for (const f of SIDECAR_NODE_FLAGS) assert.equal(flagsOnly.argv.filter((a) => a === f).length, 1, `${f} once in ${flagsOnly.argv.join(' ')}`);
  for (const [k, v] of Object.entries(SIDECAR_ENV)) assert.equal(flagsOnly.env.get(k), v, k);

  // A value the operator set is kept, for a flag and for a variable.
  const own = await launchedProcess(t, ['--max-semi-space-size=4'], { ...base, MALLOC_ARENA_MAX: '4' });
  assert.ok(own.argv.includes('--max-semi-space-size=4') && !own.argv.includes('--max-semi-space-size=1'), own.argv.join(' '));
  assert.equal(own.env.get('MALLOC_ARENA_MAX'), '4');
});
