/**
 * `server:` in the peer-ID grammar (as policies write it) and the older
 * serverId / serverIds / serverTrustDomain spellings, which read the same
 * way: one row per rule of readPeerIdMatch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, peerIdMatcher, type PeerIdMatch } from '../../../sidecar/config/index.ts';

type Doc = Record<string, unknown>;
const doc = (server: Doc): Doc => ({
  spiffe: { endpointSocket: 'unix:///a' },
  outbound: { upstreams: [{ host: 'b', address: '10.0.0.1:1', ...server }] },
});

function serverOf(server: Doc): PeerIdMatch {
  return parseConfig(doc(server), {}, 'x').outbound!.upstreams[0]!.server;
}

function problemsOf(server: Doc): [string, string][] {
  try {
    parseConfig(doc(server), {}, 'x');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => [p.path, p.message]);
  }
  assert.fail('expected a ConfigError');
}

const AT = 'outbound.upstreams[0]';

const good: { name: string; server: Doc; description: string }[] = [
  { name: 'server.id', server: { server: { id: 'spiffe://example.org/b' } }, description: 'spiffe://example.org/b' },
  { name: 'server.trustDomain', server: { server: { trustDomain: 'example.org' } }, description: 'any ID in trust domain example.org' },
  {
    name: 'server: a list of { id }',
    server: { server: [{ id: 'spiffe://example.org/b' }, { id: 'spiffe://example.org/c' }] },
    description: 'one of [spiffe://example.org/b, spiffe://example.org/c]',
  },
  { name: 'serverId (older spelling)', server: { serverId: 'spiffe://example.org/b' }, description: 'spiffe://example.org/b' },
  { name: 'serverTrustDomain (older spelling)', server: { serverTrustDomain: 'example.org' }, description: 'any ID in trust domain example.org' },
];
for (const row of good) {
  test(`server: the peer-ID grammar: reads ${row.name}`, () => assert.equal(peerIdMatcher(serverOf(row.server)).description, row.description));
}

test('server: the peer-ID grammar: server.id and serverId give the same match', () => {
  assert.deepEqual(serverOf({ server: { id: 'spiffe://example.org/b' } }), serverOf({ serverId: 'spiffe://example.org/b' }));
  assert.deepEqual(serverOf({ server: [{ id: 'spiffe://example.org/b' }] }), serverOf({ serverIds: ['spiffe://example.org/b'] }));
});

const bad: { name: string; server: Doc; problems: [string, RegExp][] }[] = [
  { name: 'server with serverId', server: { server: { id: 'spiffe://example.org/b' }, serverId: 'spiffe://example.org/b' }, problems: [[AT, /set only one of .*not server and serverId/]] },
  { name: 'not a mapping or list', server: { server: 'spiffe://example.org/b' }, problems: [[`${AT}.server`, /must be a mapping with id or trustDomain, or a list/]] },
  { name: 'empty mapping', server: { server: {} }, problems: [[`${AT}.server`, /needs id or trustDomain/]] },
  {
    name: 'two keys',
    server: { server: { id: 'spiffe://example.org/b', trustDomain: 'example.org' } },
    problems: [[`${AT}.server`, /exactly one of id or trustDomain \(got id, trustDomain\)/]],
  },
  { name: 'unknown key', server: { server: { ID: 'spiffe://example.org/b' } }, problems: [[`${AT}.server.ID`, /did you mean "id"/], [`${AT}.server`, /needs id or trustDomain/]] },
  { name: 'idPrefix is not a server identity', server: { server: { idPrefix: 'spiffe://example.org/ns/*' } }, problems: [[`${AT}.server.idPrefix`, /not accepted for a server/]] },
  { name: 'id: grammar rule', server: { server: { id: 'spiffe://example.org' } }, problems: [[`${AT}.server.id`, /trust domain's own ID/]] },
  { name: 'id: type', server: { server: { id: 7 } }, problems: [[`${AT}.server.id`, /must be a SPIFFE ID string, got number/]] },
  { name: 'trustDomain: bare names only', server: { server: { trustDomain: 'spiffe://example.org/x' } }, problems: [[`${AT}.server.trustDomain`, /bare trust domain name/]] },
  { name: 'list: empty', server: { server: [] }, problems: [[`${AT}.server`, /at least one SPIFFE ID/]] },
  {
    name: 'list: entries are { id } only',
    server: { server: [{ trustDomain: 'example.org' }] },
    problems: [[`${AT}.server[0]`, /each entry of a server list is one \{ id: \.\.\. \}/]],
  },
  {
    name: 'list: duplicates',
    server: { server: [{ id: 'spiffe://example.org/b' }, { id: 'spiffe://example.org/b' }] },
    problems: [[`${AT}.server[1].id`, /listed twice/]],
  },
  { name: 'list: item syntax', server: { server: [{ id: 'http://example.org/b' }] }, problems: [[`${AT}.server[0].id`, /scheme/]] },
  { name: 'serverId: the grammar applies to the older spelling', server: { serverId: 'spiffe://example.org' }, problems: [[`${AT}.serverId`, /trust domain's own ID/]] },
  { name: 'serverTrustDomain: the grammar applies to the older spelling', server: { serverTrustDomain: 'spiffe://example.org/x' }, problems: [[`${AT}.serverTrustDomain`, /bare trust domain name/]] },
  { name: 'serverIds not a list: one problem', server: { serverIds: 'spiffe://example.org/b' }, problems: [[`${AT}.serverIds`, /must be a list/]] },
];
for (const row of bad) {
  test(`server: the peer-ID grammar: refuses ${row.name}`, () => {
    const got = problemsOf(row.server);
    assert.equal(got.length, row.problems.length, JSON.stringify(got));
    row.problems.forEach(([path, re], i) => {
      assert.equal(got[i]![0], path);
      assert.match(got[i]![1], re);
    });
  });
}

test('server: the peer-ID grammar: tcp tunnels and transparent outbound take server too', () => {
  const c = parseConfig(
    {
      spiffe: { endpointSocket: 'unix:///a' },
      outbound: { transparent: { enabled: true, server: { trustDomain: 'example.org' } } },
      tcp: [{ name: 'pg-out', direction: 'outbound', listen: '127.0.0.1:5433', address: '10.0.0.6:15432', server: { id: 'spiffe://example.org/db' } }],
    },
    {},
    'x',
  );
  assert.equal(peerIdMatcher(c.outbound!.transparent!.server!).description, 'any ID in trust domain example.org');
  const t = c.tcp[0]!;
  assert.ok(t.direction === 'outbound');
  assert.equal(peerIdMatcher(t.server).description, 'spiffe://example.org/db');
});
