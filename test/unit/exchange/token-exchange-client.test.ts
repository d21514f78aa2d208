import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readReply, TokenExchangeError } from '../../../sidecar/exchange/index.ts';

const ok = { access_token: 'abc.def', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 60 };
const body = (o: unknown): Buffer => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));
const jwt = (exp: number): string => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2ln`;

test('readReply: a §2.2.1 answer gives the token and its expiry', () => {
  assert.deepEqual(readReply(200, body(ok), 1_000), { token: 'abc.def', expiresAtMs: 61_000 });
  assert.deepEqual(readReply(200, body({ ...ok, token_type: 'N_A', expires_in: undefined }), 0), { token: 'abc.def', expiresAtMs: undefined });
  // A JWT's exp bounds expires_in.
  assert.equal(readReply(200, body({ ...ok, access_token: jwt(30), expires_in: 600 }), 0).expiresAtMs, 30_000);
});

const refusals: [string, number, unknown, string][] = [
  ['invalid_grant is the subject token refused (RFC 6749 §5.2)', 400, { error: 'invalid_grant' }, 'exchange.subject_refused'],
  ['invalid_target is a refusal', 400, { error: 'invalid_target' }, 'exchange.refused'],
  ['invalid_client with 401 is a refusal', 401, { error: 'invalid_client' }, 'exchange.refused'],
  ['a 403 with an OAuth error is a refusal, not an outage (Keycloak)', 403, { error: 'access_denied' }, 'exchange.refused'],
  ['a 400 without an error member is unavailable', 400, {}, 'exchange.unavailable'],
  ['a 500 is unavailable', 500, { error: 'server_error' }, 'exchange.unavailable'],
  ['200 but not JSON', 200, '<html>', 'exchange.unavailable'],
  ['200 but no access_token', 200, { ...ok, access_token: undefined }, 'exchange.unavailable'],
  ['an access_token that cannot follow "Bearer "', 200, { ...ok, access_token: 'a b' }, 'exchange.unavailable'],
  ['no issued_token_type (required by §2.2.1)', 200, { ...ok, issued_token_type: undefined }, 'exchange.unavailable'],
  ['a DPoP token cannot be sent as a bearer token', 200, { ...ok, token_type: 'DPoP' }, 'exchange.unavailable'],
];
for (const [name, status, doc, code] of refusals) {
  test(`readReply: ${name}`, () => {
    assert.throws(() => readReply(status, body(doc), 0), (err: unknown) => err instanceof TokenExchangeError && err.code === code);
  });
}
