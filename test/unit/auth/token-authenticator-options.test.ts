import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRoot } from '../../support/certs.ts';
import { toPem } from '../../../sidecar/x509/index.ts';
import {
  AuthOptionsError,
  TokenAuthenticator,
  tokenAuthenticatorProblems,
  type AuthOptionsProblemCode,
  type JwtProviderOptions,
  type TokenAuthenticatorOptions,
} from '../../../sidecar/auth/index.ts';

const base: JwtProviderOptions = { name: 'idp', issuer: 'https://idp.example', audiences: ['api'], jwksUri: 'https://idp.example/jwks' };
const caPem = toPem(makeRoot().der, 'CERTIFICATE');

type Row = { name: string; options: TokenAuthenticatorOptions; code?: AuthOptionsProblemCode; path?: string; bundles?: boolean };
const one = (patch: Record<string, unknown>): TokenAuthenticatorOptions => {
  const p: Record<string, unknown> = { ...base, ...patch };
  for (const [k, v] of Object.entries(p)) if (v === undefined) delete p[k];
  return { providers: [p as unknown as JwtProviderOptions] };
};

const rows: Row[] = [
  { name: 'a valid jwksUri provider', options: one({}) },
  { name: 'discovery', options: one({ jwksUri: undefined, discovery: true }) },
  { name: 'keysFile with HS256', options: one({ jwksUri: undefined, keysFile: '/etc/keys.json', algorithms: ['HS256'] }) },
  { name: 'workloadApi without issuer', options: one({ jwksUri: undefined, issuer: undefined, workloadApi: true }), bundles: true },
  { name: 'http on loopback', options: one({ jwksUri: 'http://127.0.0.1:8080/jwks' }) },
  { name: 'a CA bundle', options: one({ ca: caPem }) },
  { name: 'bad name', options: one({ name: 'has space' }), code: 'auth.bad_name', path: 'providers[0].name' },
  { name: 'duplicate name', options: { providers: [base, { ...base, issuer: 'https://other.example' }] }, code: 'auth.duplicate_name', path: 'providers[1].name' },
  { name: 'missing issuer', options: one({ issuer: undefined }), code: 'auth.missing_issuer', path: 'providers[0].issuer' },
  { name: 'empty issuer', options: one({ issuer: '' }), code: 'auth.missing_issuer' },
  { name: 'duplicate issuer', options: { providers: [base, { ...base, name: 'idp2' }] }, code: 'auth.duplicate_issuer', path: 'providers[1].issuer' },
  { name: 'no audiences', options: one({ audiences: [] }), code: 'auth.bad_audiences' },
  { name: 'empty audience', options: one({ audiences: [''] }), code: 'auth.bad_audiences' },
  { name: 'no key source', options: one({ jwksUri: undefined }), code: 'auth.key_source', path: 'providers[0]' },
  { name: 'two key sources', options: one({ keysFile: '/k.json' }), code: 'auth.key_source' },
  { name: 'jwksUri over http off loopback', options: one({ jwksUri: 'http://idp.example/jwks' }), code: 'auth.insecure_url', path: 'providers[0].jwksUri' },
  { name: 'jwksUri not a URL', options: one({ jwksUri: 'idp/jwks' }), code: 'auth.bad_url' },
  { name: 'jwksUri with user info', options: one({ jwksUri: 'https://u:p@idp.example/jwks' }), code: 'auth.bad_url' },
  { name: 'discovery with an http issuer', options: one({ jwksUri: undefined, discovery: true, issuer: 'http://idp.example' }), code: 'auth.insecure_url' },
  { name: 'discovery with a query in the issuer', options: one({ jwksUri: undefined, discovery: true, issuer: 'https://idp.example/?x=1' }), code: 'auth.bad_url' },
  { name: 'alg none listed', options: one({ algorithms: ['RS256', 'none'] }), code: 'auth.alg_none', path: 'providers[0].algorithms[1]' },
  { name: 'alg NONE listed', options: one({ algorithms: ['NONE'] }), code: 'auth.alg_none' },
  { name: 'unsupported alg', options: one({ algorithms: ['ES512'] }), code: 'auth.unsupported_algorithm' },
  { name: 'empty algorithm list', options: one({ algorithms: [] }), code: 'auth.unsupported_algorithm' },
  { name: 'HS256 with a jwksUri', options: one({ algorithms: ['HS256'] }), code: 'auth.hmac_needs_keys_file' },
  { name: 'HS512 with discovery', options: one({ jwksUri: undefined, discovery: true, algorithms: ['HS512'] }), code: 'auth.hmac_needs_keys_file' },
  { name: 'requireTyp other than at+jwt', options: one({ requireTyp: 'JWT' }), code: 'auth.bad_typ' },
  { name: 'requireTyp with workloadApi', options: one({ jwksUri: undefined, workloadApi: true, requireTyp: 'at+jwt' }), code: 'auth.bad_typ', bundles: true },
  { name: 'clock skew too large', options: one({ clockSkewMs: 300_001 }), code: 'auth.out_of_range', path: 'providers[0].clockSkewMs' },
  { name: 'negative clock skew', options: one({ clockSkewMs: -1 }), code: 'auth.out_of_range' },
  { name: 'fetch timeout too small', options: one({ fetchTimeoutMs: 10 }), code: 'auth.out_of_range' },
  { name: 'cache max below min', options: one({ keySetCache: { minLifetimeMs: 120_000, maxLifetimeMs: 60_000 } }), code: 'auth.out_of_range' },
  { name: 'max token size over 64 KiB', options: { providers: [base], maxTokenBytes: 65_537 }, code: 'auth.out_of_range', path: 'maxTokenBytes' },
  { name: 'negative token cache', options: { providers: [base], tokenCacheEntries: -1 }, code: 'auth.out_of_range' },
  { name: 'empty location list', options: one({ tokenLocations: [] }), code: 'auth.bad_location' },
  { name: 'location with header and cookie', options: one({ tokenLocations: [{ header: 'x', cookie: 'y' }] }), code: 'auth.bad_location' },
  { name: 'cookie header used as a header location', options: one({ tokenLocations: [{ header: 'Cookie' }] }), code: 'auth.bad_location' },
  { name: 'header name with a space', options: one({ tokenLocations: [{ header: 'x token' }] }), code: 'auth.bad_location' },
  { name: 'duplicate location', options: one({ tokenLocations: [{ header: 'X-Token' }, { header: 'x-token' }] }), code: 'auth.bad_location' },
  { name: 'two workloadApi providers', options: { providers: [{ name: 'a', audiences: ['x'], workloadApi: true }, { name: 'b', audiences: ['x'], workloadApi: true }] }, code: 'auth.duplicate_workload_provider', bundles: true },
  { name: 'workloadApi without a bundle source', options: one({ jwksUri: undefined, workloadApi: true }), code: 'auth.no_bundle_source' },
  { name: 'ca that is not PEM', options: one({ ca: 'not a certificate' }), code: 'auth.bad_ca' },
  { name: 'ca with a key file', options: one({ jwksUri: undefined, keysFile: '/k.json', ca: caPem }), code: 'auth.bad_ca' },
];

for (const row of rows) {
  test(`token authenticator options: ${row.name}`, () => {
    const problems = tokenAuthenticatorProblems(row.options, row.bundles === true);
    if (row.code === undefined) return assert.deepEqual(problems, []);
    assert.ok(problems.some((p) => p.code === row.code && (row.path === undefined || p.path === row.path)), JSON.stringify(problems));
  });
}

test('token authenticator options: the constructor throws once with every problem', () => {
  const err = (() => {
    try {
      new TokenAuthenticator({ providers: [{ name: '', audiences: [], algorithms: ['none'] } as unknown as JwtProviderOptions] });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof AuthOptionsError);
  assert.equal(err.code, 'auth.invalid_options');
  assert.deepEqual(
    err.problems.map((p) => p.code).sort(),
    ['auth.alg_none', 'auth.bad_audiences', 'auth.bad_name', 'auth.key_source', 'auth.missing_issuer'],
  );
  assert.match(err.message, /^auth: invalid token authentication options: 5 problems/);
});
