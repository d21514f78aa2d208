/**
 * planIptables: the exact commands for each choice, and the option checks.
 * Each row fails if the rule it is about disappears from the plan.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_IPTABLES_OPTIONS,
  IptablesError,
  planIptables,
  planIptablesClean,
  type IptablesOptions,
} from '../../../sidecar/iptables/index.ts';

const opts = (over: Partial<IptablesOptions> = {}): IptablesOptions => ({ ...DEFAULT_IPTABLES_OPTIONS, ...over });
const lines = (o: IptablesOptions): string[] => planIptables(o).map((c) => c.join(' '));

describe('planIptables', () => {
  it('defaults: every inbound TCP port but the sidecar\'s own, and all outbound TCP', () => {
    assert.deepEqual(lines(opts()), [
      '-t nat -N SPIFFE_SIDECAR_INBOUND',
      '-t nat -N SPIFFE_SIDECAR_REDIRECT',
      '-t nat -N SPIFFE_SIDECAR_OUTPUT',
      '-t nat -A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15006 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_INBOUND -p tcp --dport 15020 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_INBOUND -p tcp -j REDIRECT --to-ports 15006',
      '-t nat -A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND',
      '-t nat -A SPIFFE_SIDECAR_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -d 127.0.0.0/8 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -o lo -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 15020 -j RETURN',
      '-t nat -A SPIFFE_SIDECAR_OUTPUT -j SPIFFE_SIDECAR_REDIRECT',
      '-t nat -A OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT',
    ]);
  });

  const rows: { name: string; over: Partial<IptablesOptions>; has: string[]; hasNot?: string[] }[] = [
    {
      name: 'listed inbound ports only',
      over: { inboundPorts: [8080, 9090] },
      has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 8080 -j REDIRECT --to-ports 15006', '-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 9090 -j REDIRECT --to-ports 15006'],
      hasNot: ['-A SPIFFE_SIDECAR_INBOUND -p tcp -j REDIRECT --to-ports 15006'],
    },
    { name: 'a listed port that is also excluded is not redirected', over: { inboundPorts: [8080, 22], excludeInboundPorts: [22] }, has: ['--dport 8080 -j REDIRECT'], hasNot: ['--dport 22 -j REDIRECT'] },
    { name: 'no inbound ports: no PREROUTING jump', over: { inboundPorts: [] }, has: ['-N SPIFFE_SIDECAR_INBOUND'], hasNot: ['-A PREROUTING'] },
    { name: 'excluded inbound ports return before the catch-all', over: { excludeInboundPorts: [22] }, has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 22 -j RETURN'] },
    { name: 'custom inbound listener', over: { inboundPort: 16006 }, has: ['-j REDIRECT --to-ports 16006', '--dport 16006 -j RETURN'] },
    { name: 'custom outbound listener', over: { outboundPort: 16001 }, has: ['-A SPIFFE_SIDECAR_REDIRECT -p tcp -j REDIRECT --to-ports 16001'] },
    { name: 'custom proxy uid', over: { proxyUid: 2000 }, has: ['-m owner --uid-owner 2000 -j RETURN'] },
    { name: 'custom admin port returns both ways', over: { adminPort: 16020 }, has: ['-A SPIFFE_SIDECAR_INBOUND -p tcp --dport 16020 -j RETURN', '-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 16020 -j RETURN'] },
    { name: 'excluded outbound ports', over: { excludeOutboundPorts: [5432, 53] }, has: ['-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 5432 -j RETURN', '-A SPIFFE_SIDECAR_OUTPUT -p tcp --dport 53 -j RETURN'] },
    { name: 'excluded outbound CIDRs', over: { excludeOutboundCidrs: ['10.96.0.0/12'] }, has: ['-A SPIFFE_SIDECAR_OUTPUT -d 10.96.0.0/12 -j RETURN'] },
    { name: 'no outbound: no OUTPUT jump, no redirect rule', over: { outbound: false }, has: ['-N SPIFFE_SIDECAR_OUTPUT'], hasNot: ['-A OUTPUT', '--to-ports 15001', '--uid-owner'] },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const text = lines(opts(r.over)).join('\n');
      for (const h of r.has) assert.ok(text.includes(h), `missing: ${h}\n${text}`);
      for (const h of r.hasNot ?? []) assert.ok(!text.includes(h), `unexpected: ${h}\n${text}`);
    });
  }

  it('the uid exemption comes first and the redirect jump last', () => {
    const out = lines(opts({ excludeOutboundPorts: [53], excludeOutboundCidrs: ['10.0.0.0/8'] })).filter((l) => l.includes('-A SPIFFE_SIDECAR_OUTPUT'));
    assert.match(out[0]!, /--uid-owner 1337 -j RETURN/);
    assert.match(out.at(-1)!, /-j SPIFFE_SIDECAR_REDIRECT$/);
  });
  it('the jumps are added after the chains are filled', () => {
    const out = lines(opts());
    assert.ok(out.indexOf('-t nat -A PREROUTING -p tcp -j SPIFFE_SIDECAR_INBOUND') > out.findLastIndex((l) => l.includes('-A SPIFFE_SIDECAR_INBOUND')));
    assert.equal(out.at(-1), '-t nat -A OUTPUT -p tcp -j SPIFFE_SIDECAR_OUTPUT');
  });
  it('everything is in the nat table', () => {
    for (const c of planIptables(opts())) assert.deepEqual(c.slice(0, 2), ['-t', 'nat']);
  });
});

describe('option checks', () => {
  const bad: [string, Partial<IptablesOptions>, RegExp][] = [
    ['root as proxy uid', { proxyUid: 0 }, /not root/],
    ['port 0', { inboundPort: 0 }, /inbound port 0/],
    ['port above 65535', { outboundPort: 70000 }, /outbound port 70000/],
    ['same inbound and outbound port', { outboundPort: 15006 }, /must differ/],
    ['inbound-ports lists the sidecar\'s port', { inboundPorts: [15001] }, /own ports/],
    ['excluded port out of range', { excludeOutboundPorts: [65536] }, /exclude-outbound-ports/],
    ['CIDR without prefix', { excludeOutboundCidrs: ['10.0.0.1'] }, /IPv4 CIDR/],
    ['CIDR with shell characters', { excludeOutboundCidrs: ['10.0.0.0/8;reboot'] }, /IPv4 CIDR/],
    ['IPv6 CIDR', { excludeOutboundCidrs: ['fd00::/8'] }, /IPv4 CIDR/],
  ];
  for (const [name, over, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => planIptables(opts(over)), (e: IptablesError) => e.code === 'iptables.options_invalid' && message.test(e.message));
    });
  }
});

describe('planIptablesClean', () => {
  it('removes the jumps, then flushes and deletes the three chains', () => {
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
});
