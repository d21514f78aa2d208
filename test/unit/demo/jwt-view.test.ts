/** The demo's JWT view: decoded header and claims, never the token or its signature. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actorChain, describeJwt, describeJwtHeader, viewJwt } from '../../../sidecar/demo/jwt-view.ts';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: unknown, header: unknown = { alg: 'RS256', typ: 'at+jwt' }): string => `${b64(header)}.${b64(claims)}.c2ln`;

for (const [name, authorization] of [
  ['no header', null],
  ['not Bearer', `Basic ${jwt({ sub: 'a' })}`],
  ['an opaque token', 'Bearer abc123'],
  ['two segments only', `Bearer ${b64({ alg: 'RS256' })}.${b64({ sub: 'a' })}`],
  ['claims that are not an object', `Bearer ${b64({ alg: 'RS256' })}.${b64(['a'])}.x`],
  ['a part that is not JSON', `Bearer ${Buffer.from('{').toString('base64url')}.${b64({})}.x`],
] as const) {
  test(`viewJwt: ${name} → undefined`, () => {
    assert.equal(viewJwt(authorization), undefined);
  });
}

test('viewJwt decodes header and claims; the description never contains the token or its signature', () => {
  const token = jwt({ sub: 'alice', aud: ['https://payments'], scope: 'payments:read', client_id: 'web', act: { sub: 'spiffe://td/accounts', act: { sub: 'spiffe://td/edge' } } });
  const v = viewJwt(`Bearer ${token}`)!;
  assert.equal(v.claims['sub'], 'alice');
  const line = `${describeJwtHeader(v)} ${describeJwt(v)}`;
  assert.equal(describeJwt(v), 'sub alice, aud https://payments, scope "payments:read", act spiffe://td/accounts <- spiffe://td/edge, client_id web');
  assert.ok(!line.includes(token) && !line.includes('c2ln'));
  assert.match(describeJwtHeader(v), /signature elided/);
});

test('actorChain: newest actor first, bounded at 16 levels however deep the token nests', () => {
  let act: Record<string, unknown> = { sub: 'a0' };
  for (let i = 1; i < 50; i++) act = { sub: `a${i}`, act };
  assert.equal(actorChain({ act }).length, 16);
  assert.deepEqual(actorChain({ act: { sub: 'x', act: { other: 1 } } }), ['x', '?']);
  assert.deepEqual(actorChain({}), []);
});
