/** `spiffe-sidecar version`: package version, Node.js and Workload API level. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../../sidecar/cli/io.ts';
import { TESTED_SPIRE_VERSION, WORKLOAD_API_LEVEL, packageVersion, versionCommand } from '../../../sidecar/cli/version.ts';
import { fakeIo } from './fake-io.ts';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8')) as { version: string };

test('the SPIRE version is the one spire-config/build pins', () => {
  const goMod = readFileSync(resolve(repo, 'spire-config', 'build', 'go.mod'), 'utf8');
  const pinned = /^require github\.com\/spiffe\/spire (v\S+)$/m.exec(goMod)?.[1];
  assert.equal(TESTED_SPIRE_VERSION, pinned);
});

test('packageVersion reads package.json', () => {
  assert.equal(packageVersion(), pkg.version);
});

test('text output: one fact per line', async () => {
  const io = fakeIo();
  assert.equal(await versionCommand([], io), 0);
  assert.equal(io.out(), `spiffe-sidecar ${pkg.version}\nNode.js ${process.version}\n${WORKLOAD_API_LEVEL} (tested against SPIRE ${TESTED_SPIRE_VERSION})\n`);
});

test('--output json: the documented keys', async () => {
  const io = fakeIo();
  assert.equal(await versionCommand(['--output', 'json'], io), 0);
  assert.deepEqual(JSON.parse(io.out()), { version: pkg.version, node: process.version, workloadApi: 'SPIFFE Workload API v1', testedSpire: TESTED_SPIRE_VERSION });
});

test('bad usage', async () => {
  await assert.rejects(versionCommand(['--output', 'yaml'], fakeIo()), UsageError);
  await assert.rejects(versionCommand(['extra'], fakeIo()), UsageError);
});
