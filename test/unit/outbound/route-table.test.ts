/** Host-based routing of the outbound listener: one row per matching rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, parseAuthority } from '../../../sidecar/outbound/index.ts';

const table = new RouteTable<string>([
  { host: 'backend', port: null, value: 'backend-any-port' },
  { host: 'backend', port: 8443, value: 'backend-8443' },
  { host: 'Api.Internal', port: null, value: 'api' },
  { host: '::1', port: 9000, value: 'v6' },
  { host: '10.0.0.5', port: 8080, value: 'by-ip' },
  { host: '0:0:0:0:0:ffff:a00:6', port: null, value: 'mapped' },
]);

const rows: { authority: string; want: string | undefined; rule: string }[] = [
  { authority: 'backend', want: 'backend-any-port', rule: 'host without port matches a host-only route' },
  { authority: 'backend:80', want: 'backend-any-port', rule: 'any port matches a host-only route' },
  { authority: 'backend:8443', want: 'backend-8443', rule: 'exact host:port wins' },
  { authority: 'BACKEND', want: 'backend-any-port', rule: 'hosts compare case-insensitively' },
  { authority: 'api.internal:1', want: 'api', rule: 'configured names are lowercased too' },
  { authority: '[::1]:9000', want: 'v6', rule: 'bracketed IPv6 with port' },
  { authority: '[::1]:9001', want: undefined, rule: 'IPv6 route with another port does not match' },
  { authority: 'backend.evil', want: undefined, rule: 'no suffix matching' },
  { authority: 'evil', want: undefined, rule: 'unknown host: no default route' },
  { authority: '', want: undefined, rule: 'no authority' },
  { authority: 'backend:99999', want: undefined, rule: 'invalid port' },
  { authority: 'backend:', want: undefined, rule: 'empty port' },
  { authority: 'user@backend', want: undefined, rule: 'userinfo is not a host' },
  // An IP address matches its route in any spelling (WHATWG URL host parsing; issue 12).
  { authority: '167772165:8080', want: 'by-ip', rule: 'IPv4 as one decimal number' },
  { authority: '10.5:8080', want: 'by-ip', rule: 'IPv4 with fewer parts' },
  { authority: '0x0a.0.0.05:8080', want: 'by-ip', rule: 'IPv4 with hex and octal parts' },
  { authority: '[::ffff:10.0.0.6]', want: 'mapped', rule: 'IPv6 route keyed canonically' },
  { authority: '[foo]', want: undefined, rule: 'brackets hold IPv6 only' },
];

for (const row of rows) {
  test(`${row.rule}: ${JSON.stringify(row.authority)}`, () => {
    assert.equal(table.lookup(row.authority), row.want);
  });
}

test('parseAuthority', () => {
  assert.deepEqual(parseAuthority('Host:8080'), { host: 'host', port: 8080 });
  assert.deepEqual(parseAuthority('[fe80::1]'), { host: 'fe80::1', port: null });
  // An IPv6 address outside brackets is malformed (RFC 3986 §3.2.2), as in
  // the config: core's one host:port rule set (`::1:8080` has no single reading).
  assert.equal(parseAuthority('fe80::1'), undefined);
  assert.equal(parseAuthority('[fe80::1%25eth0]'), undefined);
  assert.deepEqual(parseAuthority('0x7f000001:80'), { host: '127.0.0.1', port: 80 });
  assert.equal(parseAuthority('[fe80::1'), undefined);
  assert.equal(parseAuthority('h:0'), undefined);
});
