import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, parseCidr } from '../../../sidecar/outbound/cidr-set.ts';
import { EgressPolicy, type EgressReason } from '../../../sidecar/outbound/index.ts';

const policy = new EgressPolicy([
  { host: 'api.example.com', ports: [443] },
  { host: '*.cdn.example.net' },
  { host: 'Upper.Example.ORG.' },
  { cidr: '198.51.100.0/24', ports: [5432, 6379] },
  { cidr: '2001:db8::/32' },
]);

/** One row per rule: `allowsName` for a host name, `allowsAddress` for an IP the connection was redirected to. */
const rows: { name: string; check: 'allowsName' | 'allowsAddress'; target: string; port: number; want: EgressReason }[] = [
  { name: 'exact name on an allowed port', check: 'allowsName', target: 'api.example.com', port: 443, want: 'host' },
  { name: 'exact name on another port', check: 'allowsName', target: 'api.example.com', port: 80, want: 'no_rule' },
  { name: 'names compare without case', check: 'allowsName', target: 'API.example.COM', port: 443, want: 'host' },
  { name: 'a trailing dot names the same host', check: 'allowsName', target: 'api.example.com.', port: 443, want: 'host' },
  { name: 'the rule trailing dot and case are normalised too', check: 'allowsName', target: 'upper.example.org', port: 1, want: 'host' },
  { name: 'an exact rule does not cover subdomains', check: 'allowsName', target: 'x.api.example.com', port: 443, want: 'no_rule' },
  { name: 'wildcard: one label below', check: 'allowsName', target: 'img.cdn.example.net', port: 8443, want: 'host' },
  { name: 'wildcard: several labels below', check: 'allowsName', target: 'a.b.cdn.example.net', port: 8443, want: 'host' },
  { name: 'wildcard does not cover the name itself', check: 'allowsName', target: 'cdn.example.net', port: 8443, want: 'no_rule' },
  { name: 'wildcard needs a label boundary', check: 'allowsName', target: 'evilcdn.example.net', port: 8443, want: 'no_rule' },
  { name: 'a name no rule lists', check: 'allowsName', target: 'other.example', port: 443, want: 'no_rule' },
  { name: 'address in a network on an allowed port', check: 'allowsAddress', target: '198.51.100.7', port: 5432, want: 'cidr' },
  { name: 'address in a network on another port', check: 'allowsAddress', target: '198.51.100.7', port: 443, want: 'no_rule' },
  { name: 'address outside every network', check: 'allowsAddress', target: '203.0.113.9', port: 5432, want: 'no_rule' },
  { name: 'IPv6 network, any port', check: 'allowsAddress', target: '2001:db8::1', port: 1, want: 'cidr' },
  { name: 'IPv4-mapped IPv6 is checked as IPv4', check: 'allowsAddress', target: '::ffff:198.51.100.7', port: 6379, want: 'cidr' },
  { name: 'a name is never an address', check: 'allowsAddress', target: 'api.example.com', port: 443, want: 'no_rule' },
];

for (const r of rows) test(`EgressPolicy: ${r.check}: ${r.name}`, () => assert.equal(policy[r.check](r.target, r.port).reason, r.want));
test('EgressPolicy: allow is true exactly for host and cidr', () => {
  assert.equal(policy.allowsName('api.example.com', 443).allow, true);
  assert.equal(policy.allowsAddress('2001:db8::1', 1).allow, true);
  assert.equal(policy.allowsName('other.example', 443).allow, false);
});
test('EgressPolicy: default deny: no rules allow nothing', () => {
  const none = new EgressPolicy();
  assert.equal(none.empty, true);
  assert.equal(none.allowsName('api.example.com', 443).allow, false);
  assert.equal(none.allowsAddress('198.51.100.7', 5432).allow, false);
});
test('EgressPolicy: an entry needs exactly one of host and cidr', () => {
  assert.throws(() => new EgressPolicy([{ ports: [443] }]), TypeError);
  assert.throws(() => new EgressPolicy([{ host: 'a.example', cidr: '10.0.0.0/8' }]), TypeError);
});

const mesh = new CidrSet(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '100.64.0.7']);
const cidrRows: { name: string; address: string; want: boolean }[] = [
  { name: '10/8', address: '10.244.1.5', want: true },
  { name: '172.16/12 lower edge', address: '172.16.0.1', want: true },
  { name: '172.16/12 upper edge', address: '172.31.255.254', want: true },
  { name: 'just above 172.16/12', address: '172.32.0.1', want: false },
  { name: '192.168/16', address: '192.168.49.2', want: true },
  { name: 'ULA fc00::/7 (fd..)', address: 'fd00::5', want: true },
  { name: 'ULA fc00::/7 (fc..)', address: 'fc12::1', want: true },
  { name: 'a single address entry', address: '100.64.0.7', want: true },
  { name: 'its neighbour', address: '100.64.0.8', want: false },
  { name: 'public IPv4', address: '198.51.100.7', want: false },
  { name: 'global IPv6', address: '2001:db8::1', want: false },
  { name: 'IPv4-mapped IPv6 inside', address: '::ffff:10.1.2.3', want: true },
  { name: 'not an address', address: 'backend', want: false },
];
for (const r of cidrRows) test(`CidrSet: ${r.name}`, () => assert.equal(mesh.has(r.address), r.want));
test('CidrSet: a bad entry is refused', () => assert.throws(() => new CidrSet(['10.0.0.0/33']), TypeError));

const parse: { text: string; want: ReturnType<typeof parseCidr> }[] = [
  { text: '10.0.0.0/8', want: { address: '10.0.0.0', prefix: 8, family: 'ipv4' } },
  { text: '10.1.2.3/8', want: { address: '10.1.2.3', prefix: 8, family: 'ipv4' } },
  { text: '10.0.0.5', want: { address: '10.0.0.5', prefix: 32, family: 'ipv4' } },
  { text: 'fd00::/8', want: { address: 'fd00::', prefix: 8, family: 'ipv6' } },
  { text: 'fd00::1', want: { address: 'fd00::1', prefix: 128, family: 'ipv6' } },
  { text: '10.0.0.0/33', want: undefined },
  { text: 'fd00::/129', want: undefined },
  { text: '10.0.0.0/', want: undefined },
  { text: '10.0.0.0/x', want: undefined },
  { text: 'backend/8', want: undefined },
];
for (const p of parse) test(`CidrSet: parseCidr ${p.text}`, () => assert.deepEqual(parseCidr(p.text), p.want));
