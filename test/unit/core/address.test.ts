/** The one host:port vocabulary (sidecar/core/address.ts): one row per rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHost, formatAddress, formatAuthority, parseHostPort, parsePort, type HostPortRules } from '../../../sidecar/core/index.ts';

const CONFIG: HostPortRules = { port: 'required', hosts: 'exact' };
const ROUTE: HostPortRules = { port: 'optional', hosts: 'exact' };
const ANY_PORT: HostPortRules = { port: 'required', portZero: true, hosts: 'exact' };
const REQUEST: HostPortRules = { port: 'optional', hosts: 'canonical' };

type Want = { host: string; port: number | null } | RegExp;
const rows: { text: string; rules: HostPortRules; want: Want; rule: string }[] = [
  { text: '127.0.0.1:8080', rules: CONFIG, want: { host: '127.0.0.1', port: 8080 }, rule: 'IPv4 and port' },
  { text: ' Backend.NS:80 ', rules: CONFIG, want: { host: 'backend.ns', port: 80 }, rule: 'trimmed and lowercased' },
  { text: '[FD00::5]:443', rules: CONFIG, want: { host: 'fd00::5', port: 443 }, rule: 'bracketed IPv6 and port' },
  { text: '[fd00::5]', rules: ROUTE, want: { host: 'fd00::5', port: null }, rule: 'bracketed IPv6 without port when optional' },
  { text: 'backend', rules: ROUTE, want: { host: 'backend', port: null }, rule: 'host without port when optional' },
  { text: 'backend', rules: CONFIG, want: /missing ":port"/, rule: 'port required' },
  { text: '[::1]', rules: CONFIG, want: /missing ":port"/, rule: 'port required after brackets too' },
  { text: '::1:8080', rules: CONFIG, want: /IPv6 addresses must be in brackets/, rule: 'unbracketed IPv6 refused (config)' },
  { text: 'fd00::5', rules: REQUEST, want: /IPv6 addresses must be in brackets/, rule: 'unbracketed IPv6 refused (request)' },
  { text: '[::1:80', rules: CONFIG, want: /missing "\]"/, rule: 'unclosed bracket' },
  { text: '[::1]x80', rules: CONFIG, want: /expected ":port" after "\]"/, rule: 'text after the bracket' },
  { text: '[127.0.0.1]:80', rules: CONFIG, want: /in brackets is not an IPv6 address/, rule: 'brackets hold IPv6 only' },
  { text: '[fe80::1%eth0]:80', rules: CONFIG, want: /zone ID/, rule: 'zone ID refused (config)' },
  { text: '[fe80::1%25eth0]', rules: REQUEST, want: /zone ID/, rule: 'zone ID refused (request, RFC 6874 spelling)' },
  { text: ':80', rules: CONFIG, want: /host is missing/, rule: 'empty host (config)' },
  { text: ':80', rules: REQUEST, want: /host is missing/, rule: 'empty host (request)' },
  { text: 'backend:0', rules: CONFIG, want: /port must be 1-65535/, rule: 'port 0 refused by default' },
  { text: 'backend:0', rules: ANY_PORT, want: { host: 'backend', port: 0 }, rule: 'port 0 when allowed' },
  { text: 'backend:65536', rules: ANY_PORT, want: /port must be 0-65535/, rule: 'port above 65535' },
  { text: 'backend:+80', rules: CONFIG, want: /port must be 1-65535/, rule: 'port digits only' },
  { text: 'backend:123456', rules: CONFIG, want: /port must be 1-65535/, rule: 'port at most five digits' },
  { text: 'bad_name:80', rules: CONFIG, want: /must be an IP address or a DNS name/, rule: 'exact: name characters' },
  { text: `${'a.'.repeat(127)}ab:80`, rules: CONFIG, want: /longer than 253/, rule: 'exact: name length' },
  { text: '0x7f000001:80', rules: CONFIG, want: /read as the IPv4 address 127\.0\.0\.1 .*write 127\.0\.0\.1/, rule: 'exact: other IPv4 spelling refused naming the address' },
  { text: 'backend.123:80', rules: CONFIG, want: /a host name cannot end in a number/, rule: 'exact: a name cannot end in a number' },
  { text: '0x7f000001:80', rules: REQUEST, want: { host: '127.0.0.1', port: 80 }, rule: 'canonical: other IPv4 spelling read as the address' },
  { text: '[0:0:0:0:0:ffff:7f00:1]', rules: REQUEST, want: { host: '::ffff:7f00:1', port: null }, rule: 'canonical: IPv6 in RFC 5952 form' },
  { text: '1.2.3.4.5', rules: REQUEST, want: /not a valid IPv4 address/, rule: 'canonical: ends in a number but no address' },
  { text: 'under_score', rules: REQUEST, want: { host: 'under_score', port: null }, rule: 'canonical: names are not checked' },
];

for (const { text, rules, want, rule } of rows) {
  test(`parseHostPort: ${rule}: ${JSON.stringify(text.slice(0, 40))}`, () => {
    const r = parseHostPort(text, rules);
    if (want instanceof RegExp) assert.match(r.ok ? 'accepted' : r.problem, want);
    else assert.deepEqual(r, { ok: true, ...want });
  });
}

const ports: [text: string, zero: boolean, want: number | undefined][] = [
  ['80', false, 80],
  ['65535', false, 65535],
  ['0', false, undefined],
  ['0', true, 0],
  ['65536', true, undefined],
  ['', false, undefined],
  ['8o', false, undefined],
];
for (const [text, zero, want] of ports) test(`parsePort: ${JSON.stringify(text)}${zero ? ' (0 allowed)' : ''} → ${want}`, () => assert.equal(parsePort(text, zero), want));

{
  const cases: [host: string, port: number | null, want: string][] = [
    ['backend', null, 'backend'],
    ['backend', 8080, 'backend:8080'],
    ['fd00::5', null, '[fd00::5]'],
    ['fd00::5', 8080, '[fd00::5]:8080'],
  ];
  for (const [host, port, want] of cases) test(`formatAuthority: ${want}`, () => assert.equal(formatAuthority({ host, port }), want));
}

{
  const cases: [host: string, port: number, want: string][] = [
    ['127.0.0.1', 8080, '127.0.0.1:8080'],
    ['backend', 80, 'backend:80'],
    ['::1', 15006, '[::1]:15006'],
  ];
  for (const [host, port, want] of cases) test(`formatAddress: ${want}`, () => assert.equal(formatAddress({ host, port }), want));
}

// canonicalHost against the WHATWG URL parser itself (differential): every
// spelling from issue 12, and the forms it must leave alone.
const spellings: { host: string; want: string | undefined }[] = [
  { host: '2130706433', want: '127.0.0.1' },
  { host: '0x7f000001', want: '127.0.0.1' },
  { host: '127.1', want: '127.0.0.1' },
  { host: '0177.0.0.1', want: '127.0.0.1' },
  { host: '10.5', want: '10.0.0.5' },
  { host: '167772165', want: '10.0.0.5' },
  { host: '127.0.0.1.', want: '127.0.0.1' },
  { host: '0x7f.1', want: '127.0.0.1' },
  { host: '::ffff:7f00:1', want: '::ffff:7f00:1' },
  { host: '0:0:0:0:0:ffff:127.0.0.1', want: '::ffff:7f00:1' },
  { host: '::ffff:127.0.0.1', want: '::ffff:7f00:1' },
  { host: '1.2.3.4.5', want: undefined },
  { host: '09.1', want: undefined },
  { host: '4294967296', want: undefined },
  { host: 'backend.123', want: undefined },
  { host: 'backend', want: 'backend' },
  { host: 'backend.demo.svc.', want: 'backend.demo.svc.' },
  { host: '1.2.3.x', want: '1.2.3.x' },
];
for (const { host, want } of spellings) {
  test(`canonicalHost(${JSON.stringify(host)}) is what the URL parser reads: ${want}`, () => {
    assert.equal(canonicalHost(host), want);
    let url: string | undefined;
    try {
      const h = new URL(`http://${host.includes(':') ? `[${host}]` : host}/`).hostname;
      url = h.startsWith('[') ? h.slice(1, -1) : h;
    } catch {
      url = undefined;
    }
    // Names are left as written (the URL parser would drop nothing from these).
    if (want !== undefined && want === host) assert.equal(url, host);
    else assert.equal(url, want);
  });
}
