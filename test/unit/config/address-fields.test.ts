import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, isLoopbackHost, parseAddress } from '../../../sidecar/config/index.ts';
import { parseHostMatch } from '../../../sidecar/config/address-fields.ts';

const ok: [raw: string, host: string, port: number, formatted: string][] = [
  ['127.0.0.1:8080', '127.0.0.1', 8080, '127.0.0.1:8080'],
  ['0.0.0.0:1', '0.0.0.0', 1, '0.0.0.0:1'],
  ['localhost:65535', 'localhost', 65535, 'localhost:65535'],
  ['Backend.NS.svc:15006', 'backend.ns.svc', 15006, 'backend.ns.svc:15006'],
  ['[::]:15006', '::', 15006, '[::]:15006'],
  ['[::1]:8080', '::1', 8080, '[::1]:8080'],
  ['[FD00::5]:15006', 'fd00::5', 15006, '[fd00::5]:15006'],
  ['[::ffff:127.0.0.1]:80', '::ffff:127.0.0.1', 80, '[::ffff:127.0.0.1]:80'],
];

const bad: [raw: unknown, message: RegExp][] = [
  ['127.0.0.1', /missing ":port"/],
  ['127.0.0.1:', /port must be 1-65535/],
  ['127.0.0.1:0', /port must be 1-65535/],
  ['127.0.0.1:65536', /port must be 1-65535/],
  ['127.0.0.1:123456', /port must be 1-65535/],
  ['127.0.0.1:+80', /port must be 1-65535/],
  ['127.0.0.1:8o', /port must be 1-65535/],
  [':80', /host is missing/],
  ['::1:80', /IPv6 addresses must be in brackets/],
  ['[::1]', /missing ":port"/],
  ['[::1:80', /missing "\]"/],
  ['[::1]x80', /expected ":port" after "\]"/],
  ['[127.0.0.1]:80', /is not an IPv6 address/],
  ['[fe80::1%eth0]:80', /zone ID/],
  ['300.1.1.1:80', /not a valid IPv4 address/],
  ['-bad.example:80', /must be an IP address or a DNS name/],
  ['a..b:80', /must be an IP address or a DNS name/],
  [`${'a'.repeat(64)}.example:80`, /must be an IP address or a DNS name/],
  [`${'a.'.repeat(127)}ab:80`, /longer than 253/],
  [8080, /must be "host:port", got number/],
];

for (const [raw, host, port, formatted] of ok) {
  test(`parseAddress: accepts ${raw}`, () => {
    const r = parseAddress(raw);
    assert.deepEqual(r, { ok: true, value: { host, port } });
    assert.equal(formatAddress({ host, port }), formatted);
  });
}
for (const [raw, message] of bad) {
  test(`parseAddress: rejects ${String(raw).slice(0, 40)}`, () => {
    const r = parseAddress(raw);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', message);
  });
}

const hostMatchRows: [raw: string, expected: { host: string; port: number | null } | RegExp][] = [
  ['backend', { host: 'backend', port: null }],
  ['Backend:8080', { host: 'backend', port: 8080 }],
  ['10.0.0.5', { host: '10.0.0.5', port: null }],
  ['[fd00::5]', { host: 'fd00::5', port: null }],
  ['[fd00::5]:443', { host: 'fd00::5', port: 443 }],
  ['fd00::5', /must be in brackets/],
  ['backend:http', /port must be 1-65535/],
  ['', /host is missing/],
  // Other spellings of an IPv4 address (WHATWG URL host parsing, issue 12):
  // refused naming the address, so a config holds one spelling only.
  ['2130706433', /read as the IPv4 address 127\.0\.0\.1 .*write 127\.0\.0\.1/],
  ['0x7f000001', /read as the IPv4 address 127\.0\.0\.1/],
  ['127.1:8080', /read as the IPv4 address 127\.0\.0\.1/],
  ['0177.0.0.1', /read as the IPv4 address 127\.0\.0\.1/],
  ['10.5', /read as the IPv4 address 10\.0\.0\.5/],
  ['0x0a.0x0.0x0.0x05', /read as the IPv4 address 10\.0\.0\.5/],
  ['10.0.0.5.', /read as the IPv4 address 10\.0\.0\.5/],
  ['backend.123', /not a valid IPv4 address \(a host name cannot end in a number\)/],
  ['1.2.3.4.5', /not a valid IPv4 address/],
  ['09.1', /not a valid IPv4 address/],
];
for (const [raw, expected] of hostMatchRows) {
  test(`parseHostMatch: ${expected instanceof RegExp ? 'rejects' : 'accepts'} ${JSON.stringify(raw)}`, () => {
    const r = parseHostMatch(raw);
    if (expected instanceof RegExp) assert.match(!r.ok ? r.message : 'accepted', expected);
    else assert.deepEqual(r, { ok: true, value: expected });
  });
}

const loopbackRows: [string, boolean][] = [
  ['localhost', true],
  ['127.0.0.1', true],
  ['127.255.255.254', true],
  ['::1', true],
  ['::ffff:127.0.0.1', true],
  ['0.0.0.0', false],
  ['::', false],
  ['10.0.0.1', false],
  ['128.0.0.1', false],
  ['::ffff:10.0.0.1', false],
  ['localhost.example', false],
  ['backend', false],
];
for (const [host, expected] of loopbackRows) test(`isLoopbackHost: ${host} → ${expected}`, () => assert.equal(isLoopbackHost(host), expected));
