/**
 * IntrospectionVerifier checks that need no authorization server: tokens
 * that are not bearer tokens are refused synchronously and never sent, and
 * construction fails with typed errors. Behaviour against a real server is
 * in test/integration/auth/introspection-*.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, errorCode } from '../../../sidecar/core/index.ts';
import { IntrospectionVerifier } from '../../../sidecar/auth/introspection-verifier.ts';
import type { IntrospectionRequestResult } from '../../../sidecar/auth/introspection-observer.ts';
import type { TokenOutcome } from '../../../sidecar/auth/verified-token.ts';

function withVerifier(t: import('node:test').TestContext): { v: IntrospectionVerifier; requests: IntrospectionRequestResult[] } {
  const dir = mkdtempSync(join(tmpdir(), 'introspection-verifier-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 'secret');
  const requests: IntrospectionRequestResult[] = [];
  const v = new IntrospectionVerifier(
    // Port 9 (discard) on loopback: nothing listens; any call would fail.
    { provider: 'p', endpoint: 'http://127.0.0.1:9/introspect', clientAuth: { method: 'client_secret_basic', clientId: 'c', clientSecretFile: secretFile } },
    { clock: new ManualClock(0), observer: { request: (_p, r) => requests.push(r), cacheHit: () => undefined } },
  );
  t.after(async () => {
    await v.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { v, requests };
}

const notBearer: readonly { rule: string; token: string }[] = [
  { rule: 'empty', token: '' },
  { rule: 'longer than 16 KiB', token: 'a'.repeat(16 * 1024 + 1) },
  { rule: 'a space (RFC 6750 §2.1 b64token)', token: 'abc def' },
  { rule: 'a quote', token: 'abc"def' },
  { rule: 'a control character', token: 'abc\ndef' },
  { rule: 'a non-ASCII character', token: 'abcé' },
  { rule: '"=" padding in the middle', token: 'ab=cd' },
];

for (const row of notBearer) {
  test(`a token with ${row.rule} is malformed, refused at once, never sent`, (t) => {
    const { v, requests } = withVerifier(t);
    const o = v.verify(row.token, undefined);
    assert.ok(!(o instanceof Promise), 'refused synchronously');
    assert.deepEqual([(o as TokenOutcome).kind, (o as { reason: string }).reason], ['invalid', 'malformed']);
    assert.deepEqual(requests, []);
  });
}

test('b64token characters and trailing padding are accepted for sending', async (t) => {
  const { v, requests } = withVerifier(t);
  const o = await v.verify('aZ09-._~+/==', undefined);
  // Nothing listens on the endpoint: the token was sent and the AS was unreachable.
  assert.equal(o.kind, 'unavailable');
  assert.deepEqual(requests, ['introspection_unavailable']);
});

test('construction: a missing secret file is introspection.secret_file; bad options are introspection.invalid_options', () => {
  assert.throws(
    () => new IntrospectionVerifier({ provider: 'p', endpoint: 'https://as.example/i', clientAuth: { method: 'client_secret_post', clientId: 'c', clientSecretFile: '/nonexistent/secret' } }),
    (e: unknown) => errorCode(e) === 'introspection.secret_file',
  );
  assert.throws(
    () => new IntrospectionVerifier({ provider: 'p', endpoint: 'http://as.example/i', clientAuth: { method: 'client_secret_post', clientId: 'c', clientSecretFile: '/nonexistent/secret' } }),
    (e: unknown) => errorCode(e) === 'introspection.invalid_options',
  );
});
