/**
 * routeOutbound with the mesh networks known (transparent mode with the
 * original destination): an IP-literal Host inside the mesh is dialled
 * with the transparent expectation; every other literal is still refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet } from '../../../sidecar/outbound/cidr-set.ts';
import { RouteTable, routeOutbound, type RouteTarget, type TransparentOptions } from '../../../sidecar/outbound/index.ts';
import { matchMemberOf } from '../../../sidecar/spiffe/index.ts';

const routes = new RouteTable<RouteTarget>([]);
const transparent: TransparentOptions = { server: matchMemberOf('example.org'), ports: [80, 8080] };
// 127/8 and 169.254/16 inside the "mesh" must still be refused: the guard wins over the configuration.
const mesh = new CidrSet(['10.0.0.0/8', 'fd00::/8', '127.0.0.0/8', '169.254.0.0/16']);

const rows: { name: string; authority: string; mesh: CidrSet | undefined; want: string }[] = [
  { name: 'IPv4 inside the mesh is dialled', authority: '10.1.2.3:8080', mesh, want: 'dial 10.1.2.3:8080' },
  { name: 'IPv6 inside the mesh is dialled', authority: '[fd00::5]:8080', mesh, want: 'dial fd00::5:8080' },
  { name: 'another spelling of a mesh address is dialled as its canonical form', authority: '167838211:8080', mesh, want: 'dial 10.1.2.3:8080' },
  { name: 'no port means 80', authority: '10.1.2.3', mesh, want: 'dial 10.1.2.3:80' },
  { name: 'ports still apply', authority: '10.1.2.3:9090', mesh, want: 'refuse port_not_allowed' },
  { name: 'outside the mesh is refused', authority: '198.51.100.7:8080', mesh, want: 'refuse ip_literal' },
  { name: 'loopback is refused even inside a configured mesh', authority: '127.0.0.1:8080', mesh, want: 'refuse ip_literal' },
  { name: 'link-local is refused even inside a configured mesh', authority: '169.254.169.254:80', mesh, want: 'refuse ip_literal' },
  { name: 'without the mesh (no original destination) every literal is refused', authority: '10.1.2.3:8080', mesh: undefined, want: 'refuse ip_literal' },
];

for (const r of rows) {
  test(`routeOutbound with meshCidrs: ${r.name}`, () => {
    const got = routeOutbound(r.authority, routes, transparent, r.mesh);
    assert.equal(got.kind === 'dial' ? `dial ${got.host}:${got.port}` : got.kind === 'refuse' ? `refuse ${got.reason}` : got.kind, r.want);
  });
}
