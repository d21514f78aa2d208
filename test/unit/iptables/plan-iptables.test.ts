/**
 * planIptables: the exact commands for each choice, and the option checks.
 * Each row fails if the rule it is about disappears from the plan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_IPTABLES_OPTIONS,
  IptablesError,
  planIptables,
  planIptablesClean,
  type IptablesOptions,
} from '../../../sidecar/iptables/index.ts';

const opts = (over: Partial<IptablesOptions> = {}): IptablesOptions => ({ ...DEFAULT_IPTABLES_OPTIONS, ...over });
const lines = (o: IptablesOptions, family: 4 | 6 = 4): string[] => planIptables(o, family).map((c) => c.join(' '));

// The whole default plan per family; the two differ only in the loopback range that returns.
const defaults: { name: string; family: 4 | 6; loopback: string }[] = [
  { name: 'defaults: every inbound TCP port but the sidecar\'s own, and all outbound TCP', family: 4, loopback: '127.0.0.0/8' },
  { name: 'IPv6 (ip6tables) defaults: the same chains, ::1 instead of 127.0.0.0/8', family: 6, loopback: '::1/128' },
];
for (const r of defaults) {
  test(`planIptables: ${r.name}`, () => {
    assert.deepEqual(lines(opts(), r.family), [
      '-t nat -N SPIFFE_SIDECAR_INBOUND',
      '-t nat -N SPIFFE_SIDECAR_REDIRECT',
      '-t nat -N SPIFFE_SIDECAR_OUTPUT',
      '-t nat -A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15006 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15020 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_INBOUND -p tcp -j REDIRECT --to-ports 15006',
      '-t nat -A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND',
      '-t nat -A SPIFFE_SIDECAR_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      `-t nat -A SPIFFE_SIDECAR_OUTPUT -d ${r.loopback} -j RETURN`,
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -o lo -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 15020 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -j SPIFFE_SIDECAR_REDIRECT',
      '-t nat -A OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT',
    ]);
  });
}

const rows: { name: string; over: Partial<IptablesOptions>; family?: 4 | 6; has: string[]; hasNot?: string[] }[] = [
  {
    name: 'listed inbound ports only',
    over: { inboundPorts: [8080, 9090] },
    has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 8080 -j REDIRECT --to-ports 15006', '-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 9090 -j REDIRECT --to-ports 15006'],
    hasNot: ['-A SPIFFE_SIDECAR_INBOUND -p tcp -j REDIRECT --to-ports 15006'],
  },
  { name: 'a listed port that is also excluded is not redirected', over: { inboundPorts: [8080, 22], excludeInboundPorts: [22] }, has: ['--dport 8080 -j REDIRECT'], hasNot: ['--dport 22 -j REDIRECT'] },
  { name: 'no inbound ports, no outbound: no PREROUTING jump', over: { inboundPorts: [], outbound: false }, has: ['-N SPIFFE_SIDECAR_INBOUND'], hasNot: ['-A PREROUTING'] },
  {
    name: 'listed ports with outbound: the outbound listener\'s port from outside goes to the mTLS listener',
    over: { inboundPorts: [8080] },
    has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15001 -j REDIRECT --to-ports 15006', '-A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND'],
  },
  {
    name: 'no inbound ports but outbound: only that guard is jumped to',
    over: { inboundPorts: [] },
    has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15001 -j REDIRECT --to-ports 15006', '-A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND'],
  },
  { name: 'listed ports without outbound: no guard for the outbound port', over: { inboundPorts: [8080], outbound: false }, has: ['--dport 8080'], hasNot: ['--dport 15001'] },
  { name: 'excluded inbound ports return before the catch-all', over: { excludeInboundPorts: [22] }, has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 22 -j RETURN'] },
  { name: 'custom inbound listener', over: { inboundPort: 16006 }, has: ['-j REDIRECT --to-ports 16006', '--dport 16006 -j RETURN'] },
  { name: 'custom outbound listener', over: { outboundPort: 16001 }, has: ['-A SPIFFE_SIDECAR_REDIRECT -p tcp -j REDIRECT --to-ports 16001'] },
  { name: 'custom proxy uid', over: { proxyUid: 2000 }, has: ['-m owner --uid-owner 2000 -j RETURN'] },
  { name: 'custom admin port returns both ways', over: { adminPort: 16020 }, has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 16020 -j RETURN', '-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 16020 -j RETURN'] },
  { name: 'excluded outbound ports', over: { excludeOutboundPorts: [5432, 53] }, has: ['-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 5432 -j RETURN', '-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 53 -j RETURN'] },
  { name: 'excluded outbound CIDRs', over: { excludeOutboundCidrs: ['10.96.0.0/12'] }, has: ['-A SPIFFE_SIDECAR_OUTPUT -d 10.96.0.0/12 -j RETURN'] },
  { name: 'no outbound: no OUTPUT jump, no redirect rule', over: { outbound: false }, has: ['-N SPIFFE_SIDECAR_OUTPUT'], hasNot: ['-A OUTPUT', '--to-ports 15001', '--uid-owner'] },
  // Per address family: what the iptables (4) and the ip6tables (6) plan each hold.
  { name: 'IPv4 plan: IPv4 loopback, never ::1', over: {}, family: 4, has: ['-d 127.0.0.0/8 -j RETURN'], hasNot: ['::1'] },
  { name: 'IPv6 plan: ::1, never 127.0.0.0/8', over: {}, family: 6, has: ['-d ::1/128 -j RETURN'], hasNot: ['127.0.0.0/8'] },
  { name: 'IPv6 plan: the proxy uid returns', over: { proxyUid: 2000 }, family: 6, has: ['-m owner --uid-owner 2000 -j RETURN'], hasNot: [] },
  { name: 'IPv6 plan: loopback interface returns', over: {}, family: 6, has: ['-A SPIFFE_SIDECAR_OUTPUT -o lo -j RETURN'], hasNot: [] },
  { name: 'IPv6 plan: excluded ports return', over: { excludeOutboundPorts: [5432] }, family: 6, has: ['-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 5432 -j RETURN'], hasNot: [] },
  { name: 'IPv6 plan: excluded inbound ports return', over: { excludeInboundPorts: [22] }, family: 6, has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 22 -j RETURN'], hasNot: [] },
  { name: 'IPv6 plan: listed inbound ports', over: { inboundPorts: [8080] }, family: 6, has: ['--dport 8080 -j REDIRECT --to-ports 15006', '--dport 15001 -j REDIRECT --to-ports 15006'], hasNot: [] },
  { name: 'IPv6 CIDRs go to the IPv6 plan only', over: { excludeOutboundCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'] }, family: 6, has: ['-d fd00:10:96::/112 -j RETURN'], hasNot: ['10.96.0.0/12'] },
  { name: 'IPv4 CIDRs go to the IPv4 plan only', over: { excludeOutboundCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'] }, family: 4, has: ['-d 10.96.0.0/12 -j RETURN'], hasNot: ['fd00'] },
  { name: 'IPv6 plan without outbound: no OUTPUT jump', over: { outbound: false }, family: 6, has: ['-N SPIFFE_SIDECAR_OUTPUT'], hasNot: ['-A OUTPUT', '--uid-owner'] },
];
for (const r of rows) {
  test(`planIptables: ${r.name}`, () => {
    const text = lines(opts(r.over), r.family).join('\n');
    for (const h of r.has) assert.ok(text.includes(h), `missing: ${h}\n${text}`);
    for (const h of r.hasNot ?? []) assert.ok(!text.includes(h), `unexpected: ${h}\n${text}`);
  });
}

test('planIptables: the uid exemption comes first and the redirect jump last', () => {
  const out = lines(opts({ excludeOutboundPorts: [53], excludeOutboundCidrs: ['10.0.0.0/8'] })).filter((l) => l.includes('-A SPIFFE_SIDECAR_OUTPUT'));
  assert.match(out[0]!, /--uid-owner 1337 -j RETURN/);
  assert.match(out.at(-1)!, /-j SPIFFE_SIDECAR_REDIRECT$/);
});
test('planIptables: the jumps are added after the chains are filled', () => {
  const out = lines(opts());
  assert.ok(out.indexOf('-t nat -A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND') > out.findLastIndex((l) => l.includes('-A SPIFFE_SIDECAR_INBOUND')));
  assert.equal(out.at(-1), '-t nat -A OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT');
});
test('planIptables: everything is in the nat table', () => {
  for (const c of planIptables(opts())) assert.deepEqual(c.slice(0, 2), ['-t', 'nat']);
});

const bad: [string, Partial<IptablesOptions>, RegExp][] = [
  ['root as proxy uid', { proxyUid: 0 }, /not root/],
  ['port 0', { inboundPort: 0 }, /inbound port 0/],
  ['port above 65535', { outboundPort: 70000 }, /outbound port 70000/],
  ['same inbound and outbound port', { outboundPort: 15006 }, /must differ/],
  ['inbound-ports lists the sidecar\'s port', { inboundPorts: [15001] }, /own ports/],
  ['excluded port out of range', { excludeOutboundPorts: [65536] }, /exclude-outbound-ports/],
  ['CIDR without prefix', { excludeOutboundCidrs: ['10.0.0.1'] }, /"10\.0\.0\.1" is not an IPv4.*or IPv6/],
  ['CIDR with shell characters', { excludeOutboundCidrs: ['10.0.0.0/8;reboot'] }, /is not an IPv4/],
  ['IPv6 CIDR without prefix', { excludeOutboundCidrs: ['fd00::1'] }, /"fd00::1" is not/],
  ['IPv6 prefix above 128', { excludeOutboundCidrs: ['fd00::/129'] }, /"fd00::\/129" is not/],
  ['IPv6 CIDR with a zone', { excludeOutboundCidrs: ['fe80::1%eth0/64'] }, /is not/],
  ['IPv6 CIDR that is no address', { excludeOutboundCidrs: ['fd00:::1/64'] }, /is not/],
  ['an IPv4 address written with colons', { excludeOutboundCidrs: ['1.2.3.4/32:'] }, /is not/],
];
for (const [name, over, message] of bad) {
  test(`option checks: refuses ${name}`, () => {
    assert.throws(() => planIptables(opts(over)), (e: IptablesError) => e.code === 'iptables.options_invalid' && message.test(e.message));
  });
}

test('planIptablesClean: removes the jumps, then flushes and deletes the three chains', () => {
  assert.deepEqual(planIptablesClean().map((c) => c.join(' ')), [
    '-t nat -D PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND',
    '-t nat -D OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT',
    '-t nat -F SPIFFE_SIDECAR_INBOUND',
    '-t nat -F SPIFFE_SIDECAR_OUTPUT',
    '-t nat -F SPIFFE_SIDECAR_REDIRECT',
    '-t nat -X SPIFFE_SIDECAR_INBOUND',
    '-t nat -X SPIFFE_SIDECAR_OUTPUT',
    '-t nat -X SPIFFE_SIDECAR_REDIRECT',
  ]);
});
