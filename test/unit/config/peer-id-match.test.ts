import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, peerIdMatcher, type PeerIdMatch } from '../../../sidecar/config/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

function serverOf(upstream: Record<string, unknown>): PeerIdMatch {
  const c = parseConfig(
    { spiffe: { endpointSocket: 'unix:///a' }, outbound: { upstreams: [{ host: 'b', address: '10.0.0.1:1', ...upstream }] } },
    {},
    'x',
  );
  return c.outbound!.upstreams[0]!.server;
}

const rows: { name: string; upstream: Record<string, unknown>; yes: string[]; no: string[] }[] = [
  { name: 'serverId', upstream: { serverId: 'spiffe://example.org/b' }, yes: ['spiffe://example.org/b'], no: ['spiffe://example.org/c', 'spiffe://other.org/b'] },
  {
    name: 'serverIds',
    upstream: { serverIds: ['spiffe://example.org/b', 'spiffe://example.org/c'] },
    yes: ['spiffe://example.org/b', 'spiffe://example.org/c'],
    no: ['spiffe://example.org/d'],
  },
  { name: 'serverTrustDomain', upstream: { serverTrustDomain: 'example.org' }, yes: ['spiffe://example.org/any/thing'], no: ['spiffe://example.com/b'] },
];
for (const row of rows) {
  test(`peerIdMatcher: ${row.name}`, () => {
    const m = peerIdMatcher(serverOf(row.upstream));
    for (const id of row.yes) assert.equal(m.matches(SpiffeId.parse(id)), true, id);
    for (const id of row.no) assert.equal(m.matches(SpiffeId.parse(id)), false, id);
  });
}
