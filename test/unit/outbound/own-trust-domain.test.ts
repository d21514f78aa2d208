import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchOwnTrustDomain } from '../../../sidecar/outbound/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';
import type { X509Svid, X509SvidSource } from '../../../sidecar/svid/index.ts';

/** A source whose SVID (only its ID matters here) the test switches. */
class Source implements X509SvidSource {
  id: string | undefined;
  getX509Svid(): X509Svid {
    if (this.id === undefined) throw new Error('no SVID yet');
    return { id: SpiffeId.parse(this.id) } as X509Svid;
  }
}

test('matchOwnTrustDomain: accepts IDs of our own trust domain and nothing else', () => {
  const s = new Source();
  s.id = 'spiffe://example.org/ns/demo/sa/frontend';
  const m = matchOwnTrustDomain(s);
  assert.equal(m.matches(SpiffeId.parse('spiffe://example.org/ns/demo/sa/backend')), true);
  assert.equal(m.matches(SpiffeId.parse('spiffe://other.org/ns/demo/sa/backend')), false);
  assert.equal(m.matches(SpiffeId.parse('spiffe://example.org.evil/x')), false);
  assert.equal(m.description, 'any ID in trust domain example.org (our own)');
});

test('matchOwnTrustDomain: follows our identity when it changes', () => {
  const s = new Source();
  s.id = 'spiffe://example.org/a';
  const m = matchOwnTrustDomain(s);
  s.id = 'spiffe://other.org/a';
  assert.equal(m.matches(SpiffeId.parse('spiffe://other.org/b')), true);
  assert.equal(m.matches(SpiffeId.parse('spiffe://example.org/b')), false);
});

test('matchOwnTrustDomain: accepts nothing while we have no SVID', () => {
  const m = matchOwnTrustDomain(new Source());
  assert.equal(m.matches(SpiffeId.parse('spiffe://example.org/b')), false);
  assert.equal(m.description, 'any ID in our own trust domain');
});
