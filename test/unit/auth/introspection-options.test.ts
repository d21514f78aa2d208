/**
 * IntrospectionOptions validation: one row per rule, each naming the path
 * and code it must report; every problem is reported at once; defaults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntrospectionOptionsError } from '../../../sidecar/auth/introspection-error.ts';
import { resolveIntrospectionOptions, type IntrospectionOptions } from '../../../sidecar/auth/introspection-options.ts';
import { isLoopbackHost } from '../../../sidecar/auth/issuer-url.ts';
import { toPem } from '../../../sidecar/x509/index.ts';
import { makeRoot } from '../../support/certs.ts';

const CA_PEM = toPem(makeRoot().der, 'CERTIFICATE');

const base: IntrospectionOptions = {
  provider: 'corp-as',
  endpoint: 'https://as.example/introspect',
  clientAuth: { method: 'client_secret_basic', clientId: 'sidecar', clientSecretFile: '/run/secrets/as' },
};

const rows: readonly { rule: string; over: Partial<IntrospectionOptions> & Record<string, unknown>; path: string; code: string }[] = [
  { rule: 'provider is a short label', over: { provider: 'has spaces' }, path: 'provider', code: 'introspection.bad_name' },
  { rule: 'provider is not empty', over: { provider: '' }, path: 'provider', code: 'introspection.bad_name' },
  { rule: 'endpoint is a URL', over: { endpoint: 'not a url' }, path: 'endpoint', code: 'introspection.bad_url' },
  { rule: 'endpoint is https off loopback', over: { endpoint: 'http://as.example/introspect' }, path: 'endpoint', code: 'introspection.insecure_url' },
  { rule: 'endpoint http only on loopback (10.x is not)', over: { endpoint: 'http://10.0.0.1/introspect' }, path: 'endpoint', code: 'introspection.insecure_url' },
  { rule: 'endpoint scheme is http(s)', over: { endpoint: 'ftp://as.example/x' }, path: 'endpoint', code: 'introspection.insecure_url' },
  { rule: 'endpoint carries no query', over: { endpoint: 'https://as.example/introspect?tenant=a' }, path: 'endpoint', code: 'introspection.bad_url' },
  { rule: 'endpoint carries no credentials', over: { endpoint: 'https://user:pw@as.example/introspect' }, path: 'endpoint', code: 'introspection.bad_url' },
  { rule: 'endpoint carries no fragment', over: { endpoint: 'https://as.example/introspect#x' }, path: 'endpoint', code: 'introspection.bad_url' },
  { rule: 'clientAuth is required', over: { clientAuth: undefined as never }, path: 'clientAuth', code: 'introspection.bad_client_auth' },
  { rule: 'clientAuth.method is known', over: { clientAuth: { method: 'private_key_jwt', clientId: 'x' } as never }, path: 'clientAuth.method', code: 'introspection.bad_client_auth' },
  { rule: 'clientAuth.clientId is not empty', over: { clientAuth: { method: 'client_secret_post', clientId: '', clientSecretFile: '/s' } }, path: 'clientAuth.clientId', code: 'introspection.bad_client_auth' },
  { rule: 'a client secret comes from a file', over: { clientAuth: { method: 'client_secret_basic', clientId: 'x', clientSecretFile: '' } }, path: 'clientAuth.clientSecretFile', code: 'introspection.bad_client_auth' },
  { rule: 'mTLS needs a certificate getter', over: { clientAuth: { method: 'tls_client_auth', clientId: 'x', clientCertificate: 'cert.pem' } as never }, path: 'clientAuth.clientCertificate', code: 'introspection.bad_client_auth' },
  { rule: 'cacheMaxTtlMs ≥ 1 s', over: { cacheMaxTtlMs: 999 }, path: 'cacheMaxTtlMs', code: 'introspection.out_of_range' },
  { rule: 'cacheMaxTtlMs ≤ 1 h', over: { cacheMaxTtlMs: 3_600_001 }, path: 'cacheMaxTtlMs', code: 'introspection.out_of_range' },
  { rule: 'negativeCacheTtlMs ≤ 5 s', over: { negativeCacheTtlMs: 5_001 }, path: 'negativeCacheTtlMs', code: 'introspection.out_of_range' },
  { rule: 'maxCacheEntries ≥ 1', over: { maxCacheEntries: 0 }, path: 'maxCacheEntries', code: 'introspection.out_of_range' },
  { rule: 'requestTimeoutMs ≥ 100', over: { requestTimeoutMs: 99 }, path: 'requestTimeoutMs', code: 'introspection.out_of_range' },
  { rule: 'requestTimeoutMs is an integer', over: { requestTimeoutMs: 1500.5 }, path: 'requestTimeoutMs', code: 'introspection.out_of_range' },
  { rule: 'maxInFlight ≥ 1', over: { maxInFlight: 0 }, path: 'maxInFlight', code: 'introspection.out_of_range' },
  { rule: 'clockSkewMs ≤ 5 min', over: { clockSkewMs: 300_001 }, path: 'clockSkewMs', code: 'introspection.out_of_range' },
  { rule: 'audiences, when given, is not empty', over: { audiences: [] }, path: 'audiences', code: 'introspection.bad_audiences' },
  { rule: 'audiences are non-empty strings', over: { audiences: ['api', ''] }, path: 'audiences', code: 'introspection.bad_audiences' },
  { rule: 'ca is a PEM certificate', over: { ca: 'not pem' }, path: 'ca', code: 'introspection.bad_ca' },
  { rule: 'issuer, when given, is not empty', over: { issuer: '' }, path: 'issuer', code: 'introspection.bad_url' },
  { rule: 'phantom mode needs the issuer', over: { phantom: true }, path: 'issuer', code: 'introspection.phantom_needs_issuer' },
  { rule: 'phantom token-exchange needs an exchange endpoint', over: { phantom: true, issuer: 'https://as.example', phantomSource: 'token-exchange' }, path: 'exchangeEndpoint', code: 'introspection.phantom_source' },
  { rule: 'phantomSource is one of two', over: { phantom: true, issuer: 'https://as.example', phantomSource: 'userinfo' as never }, path: 'phantomSource', code: 'introspection.phantom_source' },
  { rule: 'exchangeEndpoint follows the endpoint rules', over: { phantom: true, issuer: 'https://as.example', phantomSource: 'token-exchange', exchangeEndpoint: 'http://as.example/token' }, path: 'exchangeEndpoint', code: 'introspection.insecure_url' },
  { rule: 'jwksUri follows the endpoint rules', over: { phantom: true, issuer: 'https://as.example', jwksUri: 'http://as.example/jwks' }, path: 'jwksUri', code: 'introspection.insecure_url' },
  { rule: 'the issuer is fetched from in phantom mode, so it follows the endpoint rules', over: { phantom: true, issuer: 'http://as.example' }, path: 'issuer', code: 'introspection.insecure_url' },
];

function problemsOf(o: IntrospectionOptions): { path: string; code: string }[] {
  try {
    resolveIntrospectionOptions(o);
  } catch (err) {
    assert.ok(err instanceof IntrospectionOptionsError, String(err));
    assert.equal(err.code, 'introspection.invalid_options');
    return err.problems.map((p) => ({ path: p.path, code: p.code }));
  }
  return [];
}

for (const row of rows) {
  test(`options: ${row.rule}`, () => {
    assert.deepEqual(problemsOf({ ...base, ...row.over } as IntrospectionOptions), [{ path: row.path, code: row.code }]);
  });
}

test('options: every problem is reported in one error', () => {
  const found = problemsOf({ ...base, provider: '', endpoint: 'http://as.example/x', maxInFlight: 0 });
  assert.deepEqual(
    found.map((p) => p.path),
    ['provider', 'endpoint', 'maxInFlight'],
  );
});

test('options: loopback http endpoints and a valid CA are accepted; defaults are filled in', () => {
  for (const endpoint of ['http://127.0.0.1:8080/i', 'http://127.9.0.1/i', 'http://localhost/i', 'http://[::1]:9000/i']) {
    assert.deepEqual(problemsOf({ ...base, endpoint }), [], endpoint);
  }
  const r = resolveIntrospectionOptions({ ...base, audiences: ['api'] });
  assert.deepEqual(
    [r.cacheMaxTtlMs, r.negativeCacheTtlMs, r.maxCacheEntries, r.requestTimeoutMs, r.maxInFlight, r.clockSkewMs, r.phantom],
    [60_000, 5_000, 10_000, 2_000, 256, 60_000, undefined],
  );
  assert.ok(r.audiences?.has('api'));
  assert.equal(resolveIntrospectionOptions({ ...base, phantom: true, issuer: 'https://as.example' }).phantom, 'jwt-introspection');
  assert.ok(Object.isFrozen(r));
  assert.deepEqual(problemsOf({ ...base, ca: CA_PEM }), []);
  assert.deepEqual(problemsOf({ ...base, ca: CA_PEM.slice(0, 120) }).map((p) => p.code), ['introspection.bad_ca'], 'a truncated PEM is not a certificate');
});

test('isLoopbackHost: 127/8, ::1 and localhost only', () => {
  assert.deepEqual(
    ['127.0.0.1', '127.255.0.9', '[::1]', '::1', 'localhost', '128.0.0.1', '10.0.0.1', 'localhost.example', '::ffff:127.0.0.1'].map(isLoopbackHost),
    [true, true, true, true, true, false, false, false, false],
  );
});
