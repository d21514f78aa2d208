import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutTokenLocations, type TokenLocation } from '../../../sidecar/auth/index.ts';
import { TokenExtractor, resolveTokenLocations } from '../../../sidecar/auth/token-location.ts';

const locations: TokenLocation[] = [
  { header: 'authorization', prefix: 'Bearer ' },
  { header: 'x-token' },
  { cookie: 'session' },
];
const extractor = new TokenExtractor(resolveTokenLocations(locations), 64);

type Row = { name: string; headers: string[]; want: string | { kind: string; reason?: string } };

const rows: Row[] = [
  { name: 'bearer header', headers: ['Authorization', 'Bearer abc'], want: 'abc' },
  { name: 'scheme in any case (RFC 6750 §2.1, RFC 9110 §11.1)', headers: ['authorization', 'BEARER abc'], want: 'abc' },
  { name: 'several spaces after the scheme', headers: ['authorization', 'Bearer    abc'], want: 'abc' },
  { name: 'header without prefix', headers: ['X-Token', 'abc'], want: 'abc' },
  { name: 'cookie among others', headers: ['cookie', 'a=1; session=abc; b=2'], want: 'abc' },
  { name: 'quoted cookie value', headers: ['cookie', 'session="abc"'], want: 'abc' },
  { name: 'cookie names are case-sensitive', headers: ['cookie', 'Session=abc'], want: { kind: 'none' } },
  { name: 'a cookie whose name ends like ours', headers: ['cookie', 'xsession=abc'], want: { kind: 'none' } },
  { name: 'empty cookie is no token', headers: ['cookie', 'session='], want: { kind: 'none' } },
  { name: 'another scheme', headers: ['authorization', 'Basic abc'], want: { kind: 'none' } },
  { name: 'scheme glued to the token', headers: ['authorization', 'Bearerabc'], want: { kind: 'none' } },
  { name: 'scheme without token', headers: ['authorization', 'Bearer'], want: { kind: 'invalid', reason: 'malformed' } },
  { name: 'two Authorization headers', headers: ['authorization', 'Bearer a', 'Authorization', 'Bearer b'], want: { kind: 'bad_request', reason: 'multiple_tokens' } },
  { name: 'two x-token headers', headers: ['x-token', 'a', 'x-token', 'b'], want: { kind: 'bad_request', reason: 'multiple_tokens' } },
  { name: 'header and cookie', headers: ['x-token', 'a', 'cookie', 'session=b'], want: { kind: 'bad_request', reason: 'multiple_tokens' } },
  { name: 'cookie twice in one header', headers: ['cookie', 'session=a; session=b'], want: { kind: 'bad_request', reason: 'multiple_tokens' } },
  { name: 'cookie in two Cookie headers (HTTP/2)', headers: ['cookie', 'session=a', 'cookie', 'session=b'], want: { kind: 'bad_request', reason: 'multiple_tokens' } },
  { name: 'token over the limit in a header', headers: ['authorization', `Bearer ${'a'.repeat(65)}`], want: { kind: 'bad_request', reason: 'token_too_large' } },
  { name: 'token at the limit', headers: ['authorization', `Bearer ${'a'.repeat(64)}`], want: 'a'.repeat(64) },
  { name: 'token over the limit in a cookie', headers: ['cookie', `session=${'a'.repeat(65)}`], want: { kind: 'bad_request', reason: 'token_too_large' } },
  { name: 'no headers', headers: [], want: { kind: 'none' } },
];

for (const row of rows) {
  test(`TokenExtractor.extract: ${row.name}`, () => {
    const got = extractor.extract(row.headers);
    if (typeof row.want === 'string') {
      assert.equal(got.kind, 'token');
      assert.equal(got.kind === 'token' && got.token, row.want);
    } else {
      assert.equal(got.kind, row.want.kind);
      if (row.want.reason !== undefined) assert.equal((got as { reason?: string }).reason, row.want.reason);
    }
  });
}

test('TokenExtractor.extract: reports the location the token came from', () => {
  const got = extractor.extract(['cookie', 'session=abc']);
  assert.equal(got.kind === 'token' && got.location, 2);
});

test('withoutTokenLocations: removes token headers and cookies, keeps everything else', () => {
  const out = withoutTokenLocations(
    ['Host', 'h', 'Authorization', 'Bearer t', 'X-Token', 't', 'Cookie', 'a=1; session=t', 'cookie', 'session=t', 'Authorization', 'Basic b'],
    locations,
  );
  assert.deepEqual(out, ['Host', 'h', 'Cookie', 'a=1', 'Authorization', 'Basic b']);
});

test('withoutTokenLocations: defaults to the bearer header and refuses a bad location list', () => {
  assert.deepEqual(withoutTokenLocations(['authorization', 'Bearer t', 'cookie', 'session=t']), ['cookie', 'session=t']);
  assert.throws(() => withoutTokenLocations([], [{ header: 'bad header' }]), TypeError);
});
