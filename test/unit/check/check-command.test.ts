import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJson, checkText } from '../../../sidecar/cli/check.ts';
import { dispatch } from '../../../sidecar/cli/dispatch.ts';
import { fail, ok, warn } from '../../../sidecar/check/index.ts';
import { fakeIo } from '../cli/fake-io.ts';

const results = [ok('config', 'c.yaml: valid'), warn('iptables', 'not in a pod', 'run it in the pod'), fail('svid', 'expired', 'renew\u001b[31m')];

test('check output: text: one line per check, the fix under warn and fail, control characters escaped, a summary', () => {
  const text = checkText(results);
  assert.match(text, /^ok {4}config {4}c\.yaml: valid$/m);
  assert.match(text, /^warn {2}iptables {2}not in a pod\n {16}fix: run it in the pod$/m);
  assert.match(text, /fix: renew\\u001b\[31m/);
  assert.match(text, /3 checks: 1 ok, 1 warn, 1 failed\n$/);
});
test('check output: json: ok is false when a check failed', () => {
  const doc = JSON.parse(checkJson(results)) as { ok: boolean; checks: unknown[] };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.checks[1], { name: 'iptables', status: 'warn', detail: 'not in a pod', fix: 'run it in the pod' });
  assert.equal((JSON.parse(checkJson(results.slice(0, 2))) as { ok: boolean }).ok, true);
});
for (const [arg, message] of [
  ['https://127.0.0.1:1', /must be an http:\/\/ URL/],
  ['http://127.0.0.1:1/readyz', /only scheme, host and port/],
  ['127.0.0.1:1', /is not a URL|must be an http/],
] as const) {
  test(`check output: --admin ${arg} is a usage error`, async () => {
    const io = fakeIo();
    assert.equal(await dispatch(['check', '--admin', arg], io), 2);
    assert.match(io.err(), message);
  });
}
