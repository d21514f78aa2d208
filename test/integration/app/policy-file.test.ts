/**
 * The policy file watcher in-process, on a real file system: in-place
 * edits and renames are picked up, the same bad content or the same read
 * error is reported once (not on every event or poll), and start-up
 * errors name the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, silentLogger, systemClock } from '../../../sidecar/core/index.ts';
import { evaluate } from '../../../sidecar/policy/index.ts';
import { PolicyFile } from '../../../sidecar/lifecycle/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';
import { eventually, tempDir } from '../../support/sidecar-harness.ts';

const A = 'spiffe://example.org/a';
const B = 'spiffe://example.org/b';
const allow = (id: string): string => `version: 1\nrules:\n  - name: r\n    from: [{ id: "${id}" }]\n`;
const allows = (f: PolicyFile, id: string): boolean => evaluate(f.current(), { peerId: SpiffeId.parse(id) }).allow;

async function load(t: { after(fn: () => unknown): void }, path: string, errors: unknown[], pollMs = 0): Promise<PolicyFile> {
  const f = await PolicyFile.load({ path, logger: silentLogger, clock: systemClock, onReloadError: (e) => errors.push(e), debounceMs: 20, pollMs });
  t.after(() => f.close());
  return f;
}

test('in-place writes and renames are picked up by the directory watch', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, allow(A));
  const errors: unknown[] = [];
  const f = await load(t, path, errors);
  f.watch();
  assert.ok(allows(f, A));

  writeFileSync(path, allow(B));
  await eventually(() => allows(f, B), () => 'in-place write applied');
  assert.equal(allows(f, A), false);

  writeFileSync(join(dir, 'next.yaml'), allow(A));
  renameSync(join(dir, 'next.yaml'), path);
  await eventually(() => allows(f, A), () => 'rename applied');
  assert.deepEqual(errors, []);
});

test('the same bad content or the same read error is reported once; the previous policy stays', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, allow(A));
  const errors: unknown[] = [];
  const f = await load(t, path, errors);

  writeFileSync(path, 'version: 2\n');
  await f.check();
  await f.check();
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as { code?: string }).code, 'policy.invalid');
  assert.ok(allows(f, A), 'previous policy kept');

  rmSync(path);
  await f.check();
  await f.check();
  assert.equal(errors.length, 2);
  assert.equal((errors[1] as { code?: string }).code, 'ENOENT');
  assert.ok(allows(f, A));

  writeFileSync(path, allow(B));
  await f.check();
  assert.ok(allows(f, B));
  assert.equal(errors.length, 2);
});

test('the poll finds a change even when no change event gets through', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, allow(A));
  const clock = new ManualClock(Date.now());
  // Change events wait out a minute-long debounce on a clock that only moves by hand; the poll is due first.
  const f = await PolicyFile.load({ path, logger: silentLogger, clock, onReloadError: () => {}, debounceMs: 60_000, pollMs: 1_000 });
  t.after(() => f.close());
  f.watch();
  writeFileSync(path, allow(B));
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(allows(f, A), 'nothing applied before the poll');
  clock.advance(1_000);
  await eventually(() => allows(f, B), () => 'change found by the poll');
});

test('start-up: a missing or invalid file is an error naming it', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'missing.yaml');
  await assert.rejects(load(t, missing, []), (err: Error & { code?: string }) => err.code === 'app.policy_file' && err.message.includes(missing));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'version: 1\nrules: [{ name: "x y", from: [] }]\n');
  await assert.rejects(load(t, bad, []), (err: Error & { code?: string }) => err.code === 'app.policy_file' && err.message.includes(bad) && /rules\[0\]/.test(err.message));
});
