/** The Node.js version check the CLI runs before anything else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SUPPORTED_NODE_RANGE, isSupportedNode, unsupportedNodeMessage } from '../../../sidecar/cli/node-support.ts';

const repo = resolve(import.meta.dirname, '..', '..', '..');

test('the supported range is package.json engines.node', () => {
  const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8')) as { engines: { node: string } };
  assert.equal(SUPPORTED_NODE_RANGE, pkg.engines.node);
});

test('isSupportedNode: one row per boundary of ^22.18.0 || ^24.0.0 || ^26.0.0', () => {
  const rows: Array<[string, boolean, string]> = [
    ['20.20.2', false, 'the system Node here'],
    ['22.17.1', false, 'below the 22 line minimum'],
    ['22.18.0', true, 'the 22 line minimum'],
    ['22.99.3', true, 'later 22.x'],
    ['23.11.0', false, 'odd major between the lines'],
    ['24.0.0', true, 'first 24'],
    ['24.21.0', true, 'the bundled Node'],
    ['25.2.1', false, 'odd major'],
    ['26.0.0', true, 'first 26'],
    ['27.0.0', false, 'beyond the last line'],
    ['v24.1.0', true, 'process.version form with v'],
    ['24.0.0-pre', true, 'a prerelease build of a supported major'],
    ['24', false, 'not a version'],
    ['', false, 'empty'],
  ];
  for (const [version, ok, why] of rows) assert.equal(isSupportedNode(version), ok, `${version}: ${why}`);
});

test('isSupportedNode: a range that is not caret alternatives is a programming error', () => {
  for (const range of ['>=22', '^0.1.0', '~24.0.0', '']) assert.throws(() => isSupportedNode('24.0.0', range), /not a caret range/, range);
});

test('unsupportedNodeMessage names the range needed, the version found and the binary', () => {
  assert.equal(unsupportedNodeMessage('24.21.0', '/x/node'), undefined);
  const text = unsupportedNodeMessage('20.20.2', '/usr/bin/node');
  assert.ok(text !== undefined);
  assert.match(text, /^spiffe-sidecar: needs Node\.js \^22\.18\.0 \|\| \^24\.0\.0 \|\| \^26\.0\.0, found 20\.20\.2 \(\/usr\/bin\/node\)\./);
  assert.match(text, /npx spiffe-sidecar/);
  assert.ok(text.endsWith('\n'));
});
