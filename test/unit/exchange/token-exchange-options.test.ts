import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTokenExchangeOptions, tokenExchangeProblems, TokenExchangeError, type TokenExchangeOptions } from '../../../sidecar/exchange/index.ts';

const good: TokenExchangeOptions = { endpoint: 'https://as.example/token', clientAuth: { method: 'tls_client_auth', clientId: 'sidecar' } };

test('defaults', () => {
  const o = resolveTokenExchangeOptions(good);
  assert.equal(o.actorToken, false);
  assert.equal(o.actorTokenAudience, 'https://as.example');
  assert.deepEqual([o.requestTimeoutMs, o.maxCacheEntries, o.maxInFlight, o.expirySkewMs], [2_000, 10_000, 256, 30_000]);
});

const rows: [string, Partial<TokenExchangeOptions>, string][] = [
  ['plain http off loopback', { endpoint: 'http://as.example/token' }, 'endpoint'],
  ['credentials in the URL', { endpoint: 'https://u:p@as.example/token' }, 'endpoint'],
  ['a query', { endpoint: 'https://as.example/token?x=1' }, 'endpoint'],
  ['a secret method without a file', { clientAuth: { method: 'client_secret_basic', clientId: 'c' } }, 'clientAuth.clientSecretFile'],
  ['a secret file with a TLS method', { clientAuth: { method: 'tls_client_auth', clientId: 'c', clientSecretFile: '/s' } }, 'clientAuth.clientSecretFile'],
  ['no client id', { clientAuth: { method: 'tls_client_auth', clientId: '' } }, 'clientAuth.clientId'],
  ['a secret file with jwt-svid', { clientAuth: { method: 'jwt-svid', clientId: 'c', clientSecretFile: '/s' } }, 'clientAuth.clientSecretFile'],
  ['an assertion audience with a method that sends no assertion', { clientAuth: { method: 'tls_client_auth', clientId: 'c', assertionAudience: 'https://as' } }, 'clientAuth.assertionAudience'],
  ['an empty assertion audience', { clientAuth: { method: 'jwt-svid', clientId: 'c', assertionAudience: '' } }, 'clientAuth.assertionAudience'],
  ['timeout out of range', { requestTimeoutMs: 10 }, 'requestTimeoutMs'],
  ['maxInFlight 0', { maxInFlight: 0 }, 'maxInFlight'],
  ['skew above 5 min', { expirySkewMs: 600_000 }, 'expirySkewMs'],
];
for (const [name, change, path] of rows) {
  test(`refused: ${name}`, () => {
    assert.deepEqual(tokenExchangeProblems({ ...good, ...change }).map((p) => p.path), [path]);
    assert.throws(() => resolveTokenExchangeOptions({ ...good, ...change }), (e: unknown) => e instanceof TokenExchangeError && e.code === 'exchange.invalid_options');
  });
}

test('plain http is allowed on loopback', () => {
  assert.deepEqual(tokenExchangeProblems({ ...good, endpoint: 'http://127.0.0.1:8080/token' }), []);
});

test('jwt-svid: the client assertion audience defaults to the token endpoint URL (RFC 7523 §3)', () => {
  const jwtSvid = { endpoint: 'https://as.example/realms/r/token', clientAuth: { method: 'jwt-svid' as const, clientId: 'c' } };
  assert.equal(resolveTokenExchangeOptions(jwtSvid).assertionAudience, 'https://as.example/realms/r/token');
  assert.equal(resolveTokenExchangeOptions({ ...jwtSvid, clientAuth: { ...jwtSvid.clientAuth, assertionAudience: 'https://as.example/realms/r' } }).assertionAudience, 'https://as.example/realms/r');
  assert.equal(resolveTokenExchangeOptions(good).assertionAudience, '', 'no assertion for the other methods');
});
