/**
 * `spiffe-sidecar inspect` as a real process: the exit codes 0 (valid),
 * 1 (invalid) and 2 (bad usage) that scripts rely on. The in-process
 * rows are in test/unit/cli/inspect.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INSPECT_AT as AT, INSPECT_ID as ID, writeInspectFiles } from '../../support/inspect-files.ts';

const repo = resolve(import.meta.dirname, '..', '..', '..');
let dir: string;
const f = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'inspect-cli-'));
  writeInspectFiles(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('inspect as a real process: exit codes 0, 1 and 2', () => {
  const node = join(repo, 'node_modules', '.bin', 'node');
  const cli = (args: string[]) => spawnSync(node, ['sidecar/cli/main.ts', 'inspect', ...args], { cwd: repo, encoding: 'utf8' });
  const ok = cli(['--bundle', f('bundle.pem'), '--at', AT, f('chain.pem')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.split('\n')[0], ID);
  const invalid = cli(['--bundle', f('bundle.pem'), '--at', '2031-01-01T00:00:00Z', f('chain.pem')]);
  assert.equal(invalid.status, 1);
  assert.match(invalid.stderr, /^spiffe-sidecar inspect: .*x509svid\.expired/);
  const usage = cli(['--at', 'never', f('chain.pem')]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /spiffe-sidecar inspect: --at: "never"/);
});
