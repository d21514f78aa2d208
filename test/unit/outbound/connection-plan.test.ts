import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientHelloServerName } from '../../../sidecar/outbound/client-hello.ts';
import { planConnection, type StreamProtocol, type Zone } from '../../../sidecar/outbound/connection-plan.ts';
import { EgressPolicy } from '../../../sidecar/outbound/index.ts';

const egress = new EgressPolicy([{ host: 'api.example.com', ports: [443] }, { cidr: '198.51.100.0/24', ports: [443, 5432] }]);
const sni = (name: string): ClientHelloServerName => ({ kind: 'sni', name });

type Want = 'http' | 'http-egress' | 'mesh-tunnel' | `egress-tunnel ${string} ${string}` | `refuse ${string}`;
const rows: { name: string; protocol: StreamProtocol; zone: Zone; address: string; port: number; sni?: ClientHelloServerName; want: Want }[] = [
  // inside the mesh: always mTLS
  { name: 'mesh HTTP is routed by Host', protocol: 'http', zone: 'mesh', address: '10.0.0.5', port: 8080, want: 'http' },
  { name: 'mesh opaque TCP is tunnelled over mTLS', protocol: 'tcp', zone: 'mesh', address: '10.0.0.5', port: 5432, want: 'mesh-tunnel' },
  { name: "mesh TLS runs inside our mTLS, never passed through", protocol: 'tls', zone: 'mesh', address: '10.0.0.5', port: 443, sni: sni('api.example.com'), want: 'mesh-tunnel' },
  // outside: the egress allow-list
  { name: 'egress HTTP is decided per request', protocol: 'http', zone: 'egress', address: '203.0.113.5', port: 80, want: 'http-egress' },
  { name: 'egress TLS with an allowed SNI dials the SNI name', protocol: 'tls', zone: 'egress', address: '203.0.113.5', port: 443, sni: sni('api.example.com'), want: 'egress-tunnel api.example.com host' },
  { name: 'egress TLS with an allowed SNI on another port falls back to the address', protocol: 'tls', zone: 'egress', address: '203.0.113.5', port: 8443, sni: sni('api.example.com'), want: 'refuse no_rule' },
  { name: 'egress TLS with an unknown SNI and an allowed address', protocol: 'tls', zone: 'egress', address: '198.51.100.9', port: 443, sni: sni('other.example'), want: 'egress-tunnel 198.51.100.9 cidr' },
  { name: 'egress TLS without SNI is decided by address', protocol: 'tls', zone: 'egress', address: '198.51.100.9', port: 443, sni: { kind: 'none' }, want: 'egress-tunnel 198.51.100.9 cidr' },
  { name: 'egress TLS with a malformed hello and an unknown address', protocol: 'tls', zone: 'egress', address: '203.0.113.5', port: 443, sni: { kind: 'malformed', reason: 'x' }, want: 'refuse no_rule' },
  { name: 'egress TCP by address', protocol: 'tcp', zone: 'egress', address: '198.51.100.9', port: 5432, want: 'egress-tunnel 198.51.100.9 cidr' },
  { name: 'egress TCP on a port the rule does not list', protocol: 'tcp', zone: 'egress', address: '198.51.100.9', port: 6379, want: 'refuse no_rule' },
  { name: 'egress TCP nobody allowed (default deny)', protocol: 'tcp', zone: 'egress', address: '203.0.113.5', port: 5432, want: 'refuse no_rule' },
];

for (const r of rows) {
  test(`planConnection: ${r.name}`, () => {
    const p = planConnection(r.protocol, r.zone, r.address, r.port, r.sni, egress);
    const got = p.kind === 'egress-tunnel' ? `egress-tunnel ${p.host} ${p.decision.reason}` : p.kind === 'refuse' ? `refuse ${p.decision.reason}` : p.kind;
    assert.equal(got, r.want);
  });
}
