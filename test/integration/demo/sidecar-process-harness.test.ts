/**
 * The child-process harness the demo starts its sidecars with
 * (sidecar/demo/sidecar-process.ts, offered to tests by sidecar/testing.ts)
 * and the tests' extension of it (test/support/test-sidecar-process.ts):
 * output lines parsed and bounded, waiting for a log line past or future,
 * a clean stop, and a kill when SIGTERM is ignored. The child is a small
 * script standing in for `spiffe-sidecar run`, so these rows do not depend
 * on the sidecar starting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSidecarProcess } from '../../support/test-sidecar-process.ts';

/**
 * Prints a JSON line, a plain line and `extra` numbered JSON lines at once,
 * one more JSON line ("later") a moment after, then idles; with the
 * argument `ignore-term` it survives SIGTERM.
 */
const CHILD = `
const [mode, extra] = process.argv.slice(2);
if (mode === 'ignore-term') process.on('SIGTERM', () => {});
console.log(JSON.stringify({ level: 'info', msg: 'starting' }));
console.log('not json');
for (let i = 0; i < Number(extra ?? 0); i++) console.log(JSON.stringify({ msg: 'n', i }));
setTimeout(() => console.log(JSON.stringify({ level: 'info', msg: 'later' })), 50);
setInterval(() => {}, 1000);
`;

function spawnChild(t: { after(fn: () => unknown): void }, args: string[], maxLines?: number): TestSidecarProcess {
  const dir = mkdtempSync(join(tmpdir(), 'harness-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'child.cjs');
  writeFileSync(script, CHILD);
  const p = TestSidecarProcess.spawn({ execPath: process.execPath, mainScript: script, args, adminPort: 1, env: {}, nodeArgs: [], ...(maxLines !== undefined ? { maxLines } : {}) });
  t.after(() => p.kill());
  return p;
}

test('output lines: JSON parsed, other text kept as msg, oldest dropped past maxLines', async (t) => {
  const p = spawnChild(t, ['normal', '10'], 5);
  await p.waitForLog((l) => l.msg === 'later');
  assert.equal(p.lines.length, 5);
  assert.deepEqual(p.lines.at(-1), { level: 'info', msg: 'later' });
  assert.ok(!p.lines.some((l) => l.msg === 'starting'), 'the oldest lines were dropped');

  const q = spawnChild(t, ['normal', '0']);
  await q.waitForLog((l) => l.msg === 'later');
  assert.deepEqual(q.lines.slice(0, 2), [{ level: 'info', msg: 'starting' }, { msg: 'not json' }]);
});

test('waitForLog: a line already seen, a line still to come, and none before the exit', async (t) => {
  const p = spawnChild(t, ['normal', '0']);
  const later = await p.waitForLog((l) => l.msg === 'later');
  assert.equal(later.level, 'info');
  const past = await p.waitForLog((l) => l.msg === 'starting');
  assert.equal(past.level, 'info');
  const never = p.waitForLog((l) => l.msg === 'never printed', 60_000);
  await p.stop();
  await assert.rejects(never, /exited \(SIGTERM\) before the expected log line/);
});

test('stop() ends the process with SIGTERM; stopWithin() kills one that ignores it', async (t) => {
  const polite = spawnChild(t, ['normal', '0']);
  await polite.waitForLog((l) => l.msg === 'later');
  assert.equal(await polite.stop(), 'SIGTERM');
  assert.equal(polite.running, false);

  const stubborn = spawnChild(t, ['ignore-term', '0']);
  await stubborn.waitForLog((l) => l.msg === 'later');
  await stubborn.stopWithin(200);
  assert.equal(await stubborn.exited, 'SIGKILL');
});
