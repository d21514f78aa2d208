/** One wording and one exit status per kind of error a command can throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { SidecarError } from '../../../sidecar/core/index.ts';
import { describeCliError, exitCodeFor, isSystemError } from '../../../sidecar/cli/cli-error.ts';
import { UsageError } from '../../../sidecar/cli/io.ts';

async function enoent(): Promise<unknown> {
  return readFile('/nonexistent/spiffe-sidecar-test').catch((err: unknown) => err);
}

test('describeCliError: each kind in the CLI words', async () => {
  const fsError = await enoent();
  assert.ok(isSystemError(fsError));
  const rows: Array<[unknown, string]> = [
    [new SidecarError('x509svid.expired', 'x509svid: certificate expired'), 'x509svid: certificate expired [x509svid.expired]'],
    [fsError, 'cannot open /nonexistent/spiffe-sidecar-test: no such file or directory (ENOENT)'],
    [new Error('plain'), 'plain'],
    ['a string', 'a string'],
    [new Error('line one\nline \u001b[2Jtwo'), 'line one\nline \\u001b[2Jtwo'],
  ];
  for (const [err, want] of rows) assert.equal(describeCliError(err), want);
});

test('exitCodeFor: 2 usage, 1 failure, 70 a bug', async () => {
  const rows: Array<[unknown, number]> = [
    [new UsageError('bad flag'), 2],
    [new SidecarError('workload.transient', 'workload: down'), 1],
    [await enoent(), 1],
    [Object.assign(new Error('error:0480006C:PEM routines::no start line'), { code: 'ERR_OSSL_PEM_NO_START_LINE' }), 1],
    [new TypeError("Cannot read properties of undefined (reading 'getTime')"), 70],
    [new RangeError('Invalid array length'), 70],
    [new ReferenceError('x is not defined'), 70],
    ['thrown string', 70],
  ];
  for (const [err, want] of rows) assert.equal(exitCodeFor(err), want, describeCliError(err));
});
