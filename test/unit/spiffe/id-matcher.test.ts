import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SpiffeId,
  SpiffeIdError,
  TrustDomain,
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  matchPredicate,
} from '../../../sidecar/spiffe/index.ts';
import type { IdMatcher } from '../../../sidecar/spiffe/index.ts';

const id = (s: string): SpiffeId => SpiffeId.parse(s);

const rows: { name: string; matcher: () => IdMatcher; description: string; yes: string[]; no: string[] }[] = [
  {
    name: 'matchAny',
    matcher: () => matchAny(),
    description: 'any SPIFFE ID',
    yes: ['spiffe://a/x', 'spiffe://b'],
    no: [],
  },
  {
    name: 'matchId from a string',
    matcher: () => matchId('spiffe://example.org/backend'),
    description: 'spiffe://example.org/backend',
    yes: ['spiffe://example.org/backend'],
    no: ['spiffe://example.org/Backend', 'spiffe://example.org/backend/x', 'spiffe://example.com/backend', 'spiffe://example.org'],
  },
  {
    name: 'matchId from a SpiffeId',
    matcher: () => matchId(id('spiffe://example.org/backend')),
    description: 'spiffe://example.org/backend',
    yes: ['spiffe://example.org/backend'],
    no: ['spiffe://example.org/frontend'],
  },
  {
    name: 'matchOneOf',
    matcher: () => matchOneOf('spiffe://a/x', id('spiffe://a/y')),
    description: 'one of [spiffe://a/x, spiffe://a/y]',
    yes: ['spiffe://a/x', 'spiffe://a/y'],
    no: ['spiffe://a/z', 'spiffe://b/x'],
  },
  {
    name: 'matchOneOf with duplicates lists each once',
    matcher: () => matchOneOf('spiffe://a/x', 'spiffe://a/x'),
    description: 'one of [spiffe://a/x]',
    yes: ['spiffe://a/x'],
    no: ['spiffe://a/y'],
  },
  {
    name: 'matchOneOf with nothing accepts nothing',
    matcher: () => matchOneOf(),
    description: 'one of []',
    yes: [],
    no: ['spiffe://a/x'],
  },
  {
    name: 'matchMemberOf a name',
    matcher: () => matchMemberOf('example.org'),
    description: 'any ID in trust domain example.org',
    yes: ['spiffe://example.org/x', 'spiffe://example.org'],
    no: ['spiffe://example.org.evil/x', 'spiffe://evil.example.org/x', 'spiffe://org/x'],
  },
  {
    name: 'matchMemberOf a TrustDomain',
    matcher: () => matchMemberOf(TrustDomain.parse('example.org')),
    description: 'any ID in trust domain example.org',
    yes: ['spiffe://example.org/x'],
    no: ['spiffe://example.com/x'],
  },
  {
    name: 'matchMemberOf a full ID string uses its trust domain',
    matcher: () => matchMemberOf('spiffe://example.org/ignored'),
    description: 'any ID in trust domain example.org',
    yes: ['spiffe://example.org/x'],
    no: ['spiffe://example.com/ignored'],
  },
  {
    name: 'matchPredicate',
    matcher: () => matchPredicate((i) => i.path.startsWith('/ns/prod/'), 'any ID under /ns/prod/'),
    description: 'any ID under /ns/prod/',
    yes: ['spiffe://a/ns/prod/web', 'spiffe://b/ns/prod/db'],
    no: ['spiffe://a/ns/dev/web', 'spiffe://a/ns/prod'],
  },
  {
    name: 'matchPredicate accepts only a literal true',
    matcher: () => matchPredicate((() => 1) as unknown as (i: SpiffeId) => boolean, 'truthy'),
    description: 'truthy',
    yes: [],
    no: ['spiffe://a/x'],
  },
];

for (const row of rows) {
  test(`ID matchers: ${row.name}`, () => {
    const m = row.matcher();
    assert.equal(m.description, row.description);
    for (const s of row.yes) assert.equal(m.matches(id(s)), true, `${s} should match`);
    for (const s of row.no) assert.equal(m.matches(id(s)), false, `${s} should not match`);
    assert.ok(Object.isFrozen(m));
  });
}

test('ID matchers: matchId, matchOneOf and matchMemberOf reject invalid strings', () => {
  assert.throws(() => matchId('spiffe://Bad/x'), SpiffeIdError);
  assert.throws(() => matchOneOf('spiffe://a/x', 'spiffe://a/'), SpiffeIdError);
  assert.throws(() => matchMemberOf('Bad'), SpiffeIdError);
});
