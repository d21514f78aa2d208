import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMPILE_CACHE_DIR, useBundleCompileCache } from '../../../sidecar/cli/compile-cache.ts';

test('a Node before 24.12 starts without the cache even when the folder is there (it would get an options object it does not take)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compile-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, COMPILE_CACHE_DIR));
  const entry = pathToFileURL(join(dir, 'main.js')).href;
  for (const version of ['22.18.0', '24.11.1', '23.11.0']) useBundleCompileCache(entry, version);
  assert.equal(nodeModule.getCompileCacheDir(), undefined);
});

test('without the folder beside the entry nothing is turned on (the sources and the tsc output)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compile-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  useBundleCompileCache(pathToFileURL(join(dir, 'main.js')).href);
  assert.equal(nodeModule.getCompileCacheDir(), undefined);
});
