/** The client secret file: read at start with typed errors, re-read on change, last good secret kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, errorCode, silentLogger } from '../../../sidecar/core/index.ts';
import { ClientSecretFile } from '../../../sidecar/auth/client-secret-file.ts';
import { IntrospectionError } from '../../../sidecar/auth/introspection-error.ts';

/** The owner introspection gives it: its label and its typed error. */
const OWNER = {
  label: 'introspection',
  fail: (message: string, cause?: unknown): Error => new IntrospectionError('introspection.secret_file', `introspection: ${message}`, cause === undefined ? undefined : { cause }),
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'introspection-secret-'));
}

test('secret file: missing → introspection.secret_file', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => new ClientSecretFile(join(dir, 'absent'), new ManualClock(0), silentLogger, OWNER), (e: unknown) => errorCode(e) === 'introspection.secret_file');
});

test('secret file: empty (or just a newline) → introspection.secret_file', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 's');
  writeFileSync(p, '\n');
  assert.throws(() => new ClientSecretFile(p, new ManualClock(0), silentLogger, OWNER), /is empty/);
});

test('secret file: one trailing newline is not part of the secret; a change is picked up; a bad re-read keeps the last good secret', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 's');
  writeFileSync(p, 's3cret \n');
  const clock = new ManualClock(0);
  const f = new ClientSecretFile(p, clock, silentLogger, OWNER);
  t.after(() => f.close());
  assert.equal(f.value, 's3cret ');
  writeFileSync(p, 'rotated');
  assert.equal(await f.refresh(), true);
  assert.equal(f.value, 'rotated');
  writeFileSync(p, '');
  assert.equal(await f.refresh(), false);
  unlinkSync(p);
  assert.equal(await f.refresh(), false);
  assert.equal(f.value, 'rotated');
  assert.equal(clock.pendingTimers, 1, 'a periodic re-read is scheduled');
  f.close();
  assert.equal(clock.pendingTimers, 0);
});
