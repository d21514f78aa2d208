import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpiffeId, matchPredicate } from '../../../sidecar/spiffe/index.ts';
import { authorizeAny, authorizeId, authorizeMatcher, authorizeMemberOf, authorizeOneOf, type Authorizer } from '../../../sidecar/tls/index.ts';

const id = (s: string): SpiffeId => SpiffeId.parse(s);

const rows: { name: string; authorize: Authorizer; peer: string; ok: boolean; reason?: string; description: string }[] = [
  { name: 'any: foreign trust domain allowed', authorize: authorizeAny(), peer: 'spiffe://z.test/x', ok: true, description: 'any SPIFFE ID' },
  { name: 'id: exact match', authorize: authorizeId('spiffe://a.test/y'), peer: 'spiffe://a.test/y', ok: true, description: 'spiffe://a.test/y' },
  {
    name: 'id: other path names presented and wanted',
    authorize: authorizeId('spiffe://a.test/y'),
    peer: 'spiffe://a.test/x',
    ok: false,
    reason: 'unexpected ID "spiffe://a.test/x", want spiffe://a.test/y',
    description: 'spiffe://a.test/y',
  },
  { name: 'id: path is case-sensitive', authorize: authorizeId(id('spiffe://a.test/y')), peer: 'spiffe://a.test/Y', ok: false, description: 'spiffe://a.test/y' },
  { name: 'id: same path in another trust domain', authorize: authorizeId('spiffe://a.test/y'), peer: 'spiffe://b.test/y', ok: false, description: 'spiffe://a.test/y' },
  { name: 'oneOf: second listed', authorize: authorizeOneOf('spiffe://a.test/1', 'spiffe://a.test/2'), peer: 'spiffe://a.test/2', ok: true, description: 'one of [spiffe://a.test/1, spiffe://a.test/2]' },
  {
    name: 'oneOf: unlisted',
    authorize: authorizeOneOf('spiffe://a.test/1', 'spiffe://a.test/2'),
    peer: 'spiffe://a.test/3',
    ok: false,
    reason: 'unexpected ID "spiffe://a.test/3", want one of [spiffe://a.test/1, spiffe://a.test/2]',
    description: 'one of [spiffe://a.test/1, spiffe://a.test/2]',
  },
  { name: 'oneOf: empty list allows nobody', authorize: authorizeOneOf(), peer: 'spiffe://a.test/1', ok: false, description: 'one of []' },
  { name: 'memberOf: member', authorize: authorizeMemberOf('a.test'), peer: 'spiffe://a.test/x/y', ok: true, description: 'any ID in trust domain a.test' },
  {
    name: 'memberOf: non-member',
    authorize: authorizeMemberOf('spiffe://a.test'),
    peer: 'spiffe://b.test/x',
    ok: false,
    reason: 'unexpected ID "spiffe://b.test/x", want any ID in trust domain a.test',
    description: 'any ID in trust domain a.test',
  },
  {
    name: 'matcher: predicate',
    authorize: authorizeMatcher(matchPredicate((i) => i.path.startsWith('/ns/prod/'), 'IDs under /ns/prod/')),
    peer: 'spiffe://a.test/ns/dev/x',
    ok: false,
    reason: 'unexpected ID "spiffe://a.test/ns/dev/x", want IDs under /ns/prod/',
    description: 'IDs under /ns/prod/',
  },
];

for (const r of rows) {
  test(`authorizer ${r.name}`, () => {
    const res = r.authorize(id(r.peer), []);
    assert.equal(res.ok, r.ok);
    if (!res.ok && r.reason !== undefined) assert.equal(res.reason, r.reason);
    assert.equal(r.authorize.description, r.description);
  });
}

test('authorizeId rejects an invalid ID when built, not on the handshake', () => {
  assert.throws(() => authorizeId('spiffe://A.test/x'), { code: 'spiffeid.trust_domain_char' });
});
