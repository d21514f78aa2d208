/**
 * The verified end user's headers: strip-then-set in the same module as the
 * caller's SPIFFE ID. Every spelling a caller or an app could send is
 * removed in both directions; values are set only from a verified user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HeaderError,
  IdentityHeaders,
  UserHeaders,
  claimHeaderValue,
  type CallerIdentity,
  type UserIdentity,
} from '../../../sidecar/headers/index.ts';

const caller: CallerIdentity = { peerId: 'spiffe://example.org/frontend', xfcc: 'By=spiffe://example.org/backend;Hash=00;URI=spiffe://example.org/frontend' };
const alice: UserIdentity = {
  issuer: 'https://idp.example',
  subject: 'alice',
  clientId: 'web',
  scopes: ['accounts:read', 'openid'],
  claims: { sub: 'alice', customer_id: 'c-17', 'https://bank.example/roles': ['teller', 'auditor'], address: { country: 'FR' }, level: 3, name: 'Zoë' },
};

const pairs = (raw: readonly string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
};
const get = (raw: readonly string[], name: string): string[] => pairs(raw).filter(([n]) => n === name).map(([, v]) => v);

// A caller or an app sending the user's headers in any spelling must never reach the app with them.
for (const name of [
  'x-auth-subject',
  'X-Auth-Subject',
  'X_AUTH_SUBJECT',
  'x-auth_issuer',
  'x-auth-client-id',
  'X-Auth-Scopes',
  'x_auth_claims',
  'X-Customer-Id',
  'x_customer_id',
]) {
  test(`spoofed ${name} is stripped inbound (with and without a user) and outbound`, () => {
    const h = new IdentityHeaders({ user: new UserHeaders({ claimHeaders: [{ claim: ['customer_id'], header: 'x-customer-id' }] }) });
    const raw = ['Host', 'backend', name, 'forged'];
    for (const out of [h.inbound(raw, caller), h.inbound(raw, caller, alice), h.outbound(raw)]) {
      assert.ok(!out.includes('forged'), `${name} survived: ${JSON.stringify(out)}`);
    }
  });
}

test('Connection naming a user header is scrubbed (it would delete the header we set)', () => {
  const h = new IdentityHeaders();
  const out = h.inbound(['Connection', 'keep-alive, X-Auth-Subject'], caller, alice);
  assert.deepEqual(get(out, 'Connection'), ['keep-alive']);
  assert.deepEqual(get(out, 'x-auth-subject'), ['alice']);
});

test('a renamed user header still strips the default spelling', () => {
  const h = new IdentityHeaders({ user: new UserHeaders({ subject: 'x-user' }) });
  const out = h.inbound(['x-auth-subject', 'forged', 'x-user', 'forged'], caller, alice);
  assert.deepEqual(get(out, 'x-auth-subject'), []);
  assert.deepEqual(get(out, 'x-user'), ['alice']);
});

test('verified user: subject, issuer, client, scopes and base64url JSON claims are set once', () => {
  const out = new IdentityHeaders().inbound(['Host', 'b'], caller, alice);
  assert.deepEqual(get(out, 'x-auth-subject'), ['alice']);
  assert.deepEqual(get(out, 'x-auth-issuer'), ['https://idp.example']);
  assert.deepEqual(get(out, 'x-auth-client-id'), ['web']);
  assert.deepEqual(get(out, 'x-auth-scopes'), ['accounts:read openid']);
  const claims = JSON.parse(Buffer.from(get(out, 'x-auth-claims')[0]!, 'base64url').toString()) as Record<string, unknown>;
  assert.deepEqual(claims, alice.claims);
});

test('no user: no user header is set', () => {
  const out = new IdentityHeaders().inbound(['Host', 'b'], caller);
  assert.deepEqual(out, ['Host', 'b', 'x-client-spiffe-id', caller.peerId, 'x-forwarded-client-cert', caller.xfcc]);
});

test('claims too large for a header are left out, the rest is still set', () => {
  const big: UserIdentity = { ...alice, claims: { blob: 'x'.repeat(8000) } };
  const out = new IdentityHeaders().inbound([], caller, big);
  assert.deepEqual(get(out, 'x-auth-claims'), []);
  assert.deepEqual(get(out, 'x-auth-subject'), ['alice']);
});

test('values a header cannot carry safely are left out (CR/LF, non-ASCII in the subject)', () => {
  const out = new IdentityHeaders().inbound([], caller, { ...alice, subject: 'alice\r\nx-admin: 1', clientId: 'wéb' });
  assert.deepEqual(get(out, 'x-auth-subject'), []);
  assert.deepEqual(get(out, 'x-auth-client-id'), []);
});

// Claim → header mapping: nested paths, keys with dots, arrays (istio#58433).
for (const [name, path, expected] of [
  ['top-level string', ['customer_id'], 'c-17'],
  ['key containing dots and slashes', ['https://bank.example/roles'], '["teller","auditor"]'],
  ['nested object member', ['address', 'country'], 'FR'],
  ['whole object as JSON', ['address'], '{"country":"FR"}'],
  ['number as JSON text', ['level'], '3'],
  ['non-ASCII string as escaped JSON', ['name'], '"Zo\\u00eb"'],
  ['absent claim', ['missing'], undefined],
  ['path through a scalar', ['customer_id', 'x'], undefined],
  ['path through an array', ['https://bank.example/roles', '0'], undefined],
  ['inherited property is not a claim', ['toString'], undefined],
] as const) {
  test(`claimHeaderValue: ${name}`, () => {
    assert.equal(claimHeaderValue(alice.claims, path), expected);
  });
}

test('claim headers are appended for a verified user', () => {
  const h = new IdentityHeaders({
    user: new UserHeaders({ claimHeaders: [{ claim: ['customer_id'], header: 'x-customer-id' }, { claim: ['https://bank.example/roles'], header: 'x-roles' }] }),
  });
  const out = h.inbound([], caller, alice);
  assert.deepEqual(get(out, 'x-customer-id'), ['c-17']);
  assert.deepEqual(get(out, 'x-roles'), ['["teller","auditor"]']);
});

for (const [name, options] of [
  ['reserved name', { subject: 'authorization' }],
  ['upper case', { issuer: 'X-Issuer' }],
  ['duplicate names', { subject: 'x-a', issuer: 'x-a' }],
  ['claim header equal to a user header', { claimHeaders: [{ claim: ['c'], header: 'x-auth-subject' }] }],
  ['empty claim path', { claimHeaders: [{ claim: [], header: 'x-c' }] }],
  ['empty path segment', { claimHeaders: [{ claim: ['a', ''], header: 'x-c' }] }],
] as const) {
  test(`UserHeaders refuses ${name}`, () => {
    assert.throws(() => new UserHeaders(options), (e: unknown) => e instanceof HeaderError && e.code === 'headers.invalid_name');
  });
}

test('a user header may not share a name with the caller headers', () => {
  assert.throws(
    () => new IdentityHeaders({ spiffeIdHeader: 'x-auth-subject' }),
    (e: unknown) => e instanceof HeaderError && e.code === 'headers.invalid_name',
  );
});
