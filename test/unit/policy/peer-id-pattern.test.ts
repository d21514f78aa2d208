/**
 * The peer-ID grammar shared by policy `from` entries and config `server:`:
 * one row per rule of parsePeerIdPattern, then the matcher and its words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerIdMatcher, describePeerIdPattern, parsePeerIdPattern, type PeerIdKey, type PeerIdPattern } from '../../../sidecar/policy/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

const patternRows: { name: string; key: PeerIdKey; value: string; want: PeerIdPattern | RegExp }[] = [
  { name: 'id: exact ID', key: 'id', value: 'spiffe://example.org/web', want: { id: 'spiffe://example.org/web' } },
  { name: 'id: "*" points to idPrefix', key: 'id', value: 'spiffe://example.org/ns/*', want: /contains "\*"; use idPrefix/ },
  { name: 'id: SPIFFE ID syntax', key: 'id', value: 'spiffe://example.org/web/', want: /^invalid SPIFFE ID "spiffe:\/\/example\.org\/web\/": .*path cannot end with a slash/ },
  { name: "id: a trust domain's own ID matches no workload", key: 'id', value: 'spiffe://example.org', want: /trust domain's own ID.*"trustDomain: example\.org"/ },
  { name: 'idPrefix: below a path', key: 'idPrefix', value: 'spiffe://example.org/ns/*', want: { idPrefix: 'spiffe://example.org/ns/*' } },
  { name: 'idPrefix: must end with "/*"', key: 'idPrefix', value: 'spiffe://example.org/ns', want: /must end with "\/\*"/ },
  { name: 'idPrefix: one "*" only', key: 'idPrefix', value: 'spiffe://example.org/*/x/*', want: /only one "\*"/ },
  { name: 'idPrefix: base is a SPIFFE ID', key: 'idPrefix', value: 'spiffe://Example.org/ns/*', want: /^invalid SPIFFE ID prefix "spiffe:\/\/Example\.org\/ns\/\*"/ },
  { name: 'trustDomain: bare name', key: 'trustDomain', value: 'partner.org', want: { trustDomain: 'partner.org' } },
  { name: 'trustDomain: a SPIFFE ID is not widened to its trust domain', key: 'trustDomain', value: 'spiffe://partner.org/web', want: /bare trust domain name/ },
  { name: 'trustDomain: no port or scheme', key: 'trustDomain', value: 'partner.org:443', want: /bare trust domain name/ },
  { name: 'trustDomain: name syntax', key: 'trustDomain', value: 'part ner.org', want: /^invalid trust domain "part ner\.org": .*trust domain characters/ },
];
for (const row of patternRows) {
  test(`parsePeerIdPattern: ${row.name}`, () => {
    const got = parsePeerIdPattern(row.key, row.value);
    if (row.want instanceof RegExp) {
      assert.equal(got.ok, false, JSON.stringify(got));
      if (!got.ok) assert.match(got.problem, row.want);
    } else {
      assert.deepEqual(got, { ok: true, pattern: row.want });
    }
  });
}

const matcherRows: { name: string; patterns: PeerIdPattern[]; yes: string[]; no: string[]; description: string }[] = [
  { name: 'id: exactly that ID', patterns: [{ id: 'spiffe://a.org/web' }], yes: ['spiffe://a.org/web'], no: ['spiffe://a.org/web2', 'spiffe://b.org/web'], description: 'spiffe://a.org/web' },
  {
    name: 'idPrefix: whole segments below the path',
    patterns: [{ idPrefix: 'spiffe://a.org/ns/*' }],
    yes: ['spiffe://a.org/ns/x', 'spiffe://a.org/ns/x/y'],
    no: ['spiffe://a.org/ns', 'spiffe://a.org/nsx/y', 'spiffe://b.org/ns/x'],
    description: 'spiffe://a.org/ns/*',
  },
  { name: 'trustDomain: any ID of it', patterns: [{ trustDomain: 'a.org' }], yes: ['spiffe://a.org/any/thing'], no: ['spiffe://b.org/x', 'spiffe://a.org.b/x'], description: 'any ID in trust domain a.org' },
  {
    name: 'several: any of them',
    patterns: [{ id: 'spiffe://a.org/web' }, { trustDomain: 'b.org' }],
    yes: ['spiffe://a.org/web', 'spiffe://b.org/x'],
    no: ['spiffe://a.org/api'],
    description: 'one of [spiffe://a.org/web, any ID in trust domain b.org]',
  },
  { name: 'none: accepts nobody', patterns: [], yes: [], no: ['spiffe://a.org/web'], description: 'one of []' },
];
for (const row of matcherRows) {
  test(`PeerIdMatcher: ${row.name}`, () => {
    const m = new PeerIdMatcher(row.patterns);
    for (const id of row.yes) assert.equal(m.matches(SpiffeId.parse(id)), true, id);
    for (const id of row.no) assert.equal(m.matches(SpiffeId.parse(id)), false, id);
    assert.equal(m.description, row.description);
  });
}

test('PeerIdMatcher: describePeerIdPattern words each form', () => {
  assert.deepEqual(
    [{ id: 'spiffe://a.org/w' }, { idPrefix: 'spiffe://a.org/ns/*' }, { trustDomain: 'a.org' }].map(describePeerIdPattern),
    ['spiffe://a.org/w', 'spiffe://a.org/ns/*', 'any ID in trust domain a.org'],
  );
});
