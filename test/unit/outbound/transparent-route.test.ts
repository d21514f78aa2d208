import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, routeOutbound, type OutboundRoute, type RouteTarget, type TransparentOptions } from '../../../sidecar/outbound/index.ts';
import { matchMemberOf } from '../../../sidecar/spiffe/index.ts';

interface R extends RouteTarget {
  readonly name: string;
}

const pinned: R = { name: 'payments-pin', address: null };
const fixed: R = { name: 'db-route', address: { host: '10.0.0.9', port: 15006 } };
const byIp: R = { name: 'legacy-ip', address: null };
const routes = new RouteTable<R>([
  { host: 'payments', port: null, value: pinned },
  { host: 'db', port: 8080, value: fixed },
  { host: '10.0.0.7', port: null, value: byIp },
]);
const transparent: TransparentOptions = { server: matchMemberOf('example.org') };
const onlyWeb: TransparentOptions = { ...transparent, ports: [80, 8080] };

type Want = { upstream: string } | { dial: string; pin?: string } | { refuse: number; reason: string; message?: RegExp };

const rows: { name: string; authority: string; transparent: TransparentOptions | undefined; want: Want }[] = [
  // transparent off: only configured routes (no open proxy)
  { name: 'off: configured route', authority: 'db:8080', transparent: undefined, want: { upstream: 'db-route' } },
  { name: 'off: unknown host is 404', authority: 'backend:8080', transparent: undefined, want: { refuse: 404, reason: 'unknown_host', message: /not a configured upstream/ } },
  { name: 'off: no Host is 404', authority: '', transparent: undefined, want: { refuse: 404, reason: 'unknown_host', message: /no Host header/ } },
  // a configured upstream wins
  { name: 'configured route wins over dialling by name', authority: 'db:8080', transparent, want: { upstream: 'db-route' } },
  { name: 'configured route with a port matches only that port', authority: 'db:9090', transparent, want: { dial: 'db:9090' } },
  // dial by name
  { name: 'service name with port', authority: 'backend:8080', transparent, want: { dial: 'backend:8080' } },
  { name: 'no port means 80 (RFC 9110 §4.2.1)', authority: 'backend', transparent, want: { dial: 'backend:80' } },
  { name: 'namespaced service name', authority: 'backend.demo.svc:9090', transparent, want: { dial: 'backend.demo.svc:9090' } },
  { name: 'host is lowercased', authority: 'Backend.Demo.SVC:8080', transparent, want: { dial: 'backend.demo.svc:8080' } },
  { name: 'a fully qualified name with a trailing dot', authority: 'backend.demo.svc.cluster.local.:8080', transparent, want: { dial: 'backend.demo.svc.cluster.local.:8080' } },
  { name: 'identity pin without address dials the name with the pin', authority: 'payments:8443', transparent, want: { dial: 'payments:8443', pin: 'payments-pin' } },
  // refusals
  { name: 'IPv4 literal: no identity can be derived', authority: '10.0.0.5:8080', transparent, want: { refuse: 403, reason: 'ip_literal', message: /names no workload/ } },
  { name: 'IPv6 literal', authority: '[fd00::5]:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IP literal without port', authority: '10.0.0.5', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IP literal with a configured pin is dialled', authority: '10.0.0.7:8080', transparent, want: { dial: '10.0.0.7:8080', pin: 'legacy-ip' } },
  // Every other spelling of an address is the same literal (issue 12): 403, never a DNS name to resolve.
  { name: 'IPv4 as one decimal number', authority: '2130706433:8080', transparent, want: { refuse: 403, reason: 'ip_literal', message: /the host is 127\.0\.0\.1\)/ } },
  { name: 'IPv4 as one hex number', authority: '0x7f000001:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4 with two parts', authority: '127.1:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4 with an octal part', authority: '0177.0.0.1:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4 10.5 is 10.0.0.5', authority: '10.5:8080', transparent, want: { refuse: 403, reason: 'ip_literal', message: /the host is 10\.0\.0\.5\)/ } },
  { name: 'IPv4 167772165 is 10.0.0.5', authority: '167772165:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4 with a trailing dot', authority: '10.0.0.5.:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4 spelled differently, no port', authority: '0x7f.1', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4-mapped IPv6 in hex', authority: '[::ffff:7f00:1]:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'IPv4-mapped IPv6 spelled out', authority: '[0:0:0:0:0:ffff:127.0.0.1]:8080', transparent, want: { refuse: 403, reason: 'ip_literal' } },
  { name: 'a spelling of a pinned address dials the pin', authority: '167772167:8080', transparent, want: { dial: '10.0.0.7:8080', pin: 'legacy-ip' } },
  { name: 'a host ending in a number that is no address', authority: '1.2.3.4.5:8080', transparent, want: { refuse: 400, reason: 'bad_host' } },
  { name: 'no Host header', authority: '', transparent, want: { refuse: 400, reason: 'no_host' } },
  { name: 'malformed port', authority: 'backend:99999', transparent, want: { refuse: 400, reason: 'bad_host' } },
  { name: 'not a DNS name', authority: 'back_end:8080', transparent, want: { refuse: 400, reason: 'bad_host', message: /not a DNS name/ } },
  { name: 'empty label', authority: 'backend..svc:8080', transparent, want: { refuse: 400, reason: 'bad_host' } },
  { name: 'port allowed by ports', authority: 'backend:8080', transparent: onlyWeb, want: { dial: 'backend:8080' } },
  { name: 'default port 80 allowed by ports', authority: 'backend', transparent: onlyWeb, want: { dial: 'backend:80' } },
  { name: 'port not in ports', authority: 'backend:6379', transparent: onlyWeb, want: { refuse: 403, reason: 'port_not_allowed', message: /port 6379/ } },
  { name: 'ports also bound identity pins', authority: 'payments:8443', transparent: onlyWeb, want: { refuse: 403, reason: 'port_not_allowed' } },
];

function describeRoute(r: OutboundRoute<R>): Want {
  switch (r.kind) {
    case 'upstream':
      return { upstream: r.route.name };
    case 'dial':
      return { dial: `${r.host}:${r.port}`, ...(r.pin ? { pin: r.pin.name } : {}) };
    case 'refuse':
      return { refuse: r.status, reason: r.reason };
  }
}

for (const row of rows) {
  test(`routeOutbound: ${row.name}`, () => {
    const got = routeOutbound(row.authority, routes, row.transparent);
    const { message, ...want } = row.want as Want & { message?: RegExp };
    assert.deepEqual(describeRoute(got), want);
    if (message) assert.match(got.kind === 'refuse' ? got.message : '', message);
  });
}
