/** A closed stdout (EPIPE) stops the command instead of crashing the process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { guardStdio } from '../../../sidecar/cli/stdio-guard.ts';

function epipe(): Error {
  return Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' });
}

test('the first error on any guarded stream calls onClosed once; later errors are swallowed', () => {
  const out = new PassThrough();
  const err = new PassThrough();
  const seen: unknown[] = [];
  const remove = guardStdio([out, err], (e) => seen.push(e));
  const first = epipe();
  out.emit('error', first);
  err.emit('error', epipe());
  out.emit('error', new Error('write after end'));
  assert.deepEqual(seen, [first]);
  remove();
  assert.equal(out.listenerCount('error'), 0);
  assert.equal(err.listenerCount('error'), 0);
});
