import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseForwardedInto, parseIpInto } from '../../../sidecar/policy/ip-address.ts';
import { IpBlockSet, parseIpBlock } from '../../../sidecar/policy/ip-block-set.ts';

function parse(text: string): string | undefined {
  const b = new Uint8Array(16);
  const f = parseIpInto(text, 0, text.length, b);
  return f === 0 ? undefined : formatIp(f, b);
}

// [input, canonical text or undefined when refused]
const ipRows: [string, string | undefined][] = [
  ['192.0.2.1', '192.0.2.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['255.255.255.255', '255.255.255.255'],
  ['256.0.0.1', undefined], // octet out of range
  ['192.0.2', undefined], // three parts
  ['192.0.2.1.5', undefined], // five parts
  ['192.0.2.', undefined], // empty part
  ['192.0.02.1', undefined], // leading zero (octal in some parsers)
  ['192.0.2.1 ', undefined], // trailing blank
  ['::', '::'],
  ['::1', '::1'],
  ['1::', '1::'],
  ['2001:db8::1', '2001:db8::1'],
  ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // longest zero run compressed
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
  ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'], // a single zero group stays
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ['::ffff:192.0.2.1', '192.0.2.1'], // IPv4-mapped → IPv4
  ['::ffff:c000:0201', '192.0.2.1'], // same, hex form
  ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'], // dotted tail on another prefix stays IPv6
  ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ['1:2:3:4:5:6:7:8:9', undefined], // nine groups
  ['1:2:3:4:5:6:7', undefined], // seven groups without '::'
  ['1::2::3', undefined], // two '::'
  [':1::', undefined], // single leading ':'
  ['1:', undefined], // single trailing ':'
  ['12345::', undefined], // five hex digits
  ['fe80::1%eth0', undefined], // zone ID
  ['::ffff:1.2.3.256', undefined], // bad dotted tail
  ['1:2:3:4:5:6:7:1.2.3.4', undefined], // dotted tail past 128 bits
  ['g::1', undefined],
  ['', undefined],
];
for (const [input, want] of ipRows) {
  test(`parseIpInto: ${JSON.stringify(input)} → ${want ?? 'refused'}`, () => assert.equal(parse(input), want));
}

const forwardedRows: [string, string | undefined][] = [
  ['198.51.100.7', '198.51.100.7'],
  [' 198.51.100.7\t', '198.51.100.7'],
  ['198.51.100.7:443', '198.51.100.7'],
  ['198.51.100.7:', undefined],
  ['198.51.100.7:1234567', undefined],
  ['[2001:db8::7]', '2001:db8::7'],
  ['[2001:db8::7]:4711', '2001:db8::7'],
  ['2001:db8::7', '2001:db8::7'],
  ['[2001:db8::7]x', undefined],
  ['[198.51.100.7]', undefined], // brackets are for IPv6 only
  ['unknown', undefined],
  ['_hidden', undefined],
  ['', undefined],
];
for (const [input, want] of forwardedRows) {
  test(`parseForwardedInto: ${JSON.stringify(input)} → ${want ?? 'refused'}`, () => {
    const b = new Uint8Array(16);
    const f = parseForwardedInto(input, b);
    assert.equal(f === 0 ? undefined : formatIp(f, b), want);
  });
}

const set = new IpBlockSet(['10.0.0.0/8', '192.0.2.128/25', '2001:db8::/33']);
const blockRows: [string, boolean][] = [
  ['10.255.0.1', true],
  ['11.0.0.1', false],
  ['192.0.2.128', true],
  ['192.0.2.127', false], // partial byte: the 25th bit differs
  ['2001:db8:7fff::1', true],
  ['2001:db8:8000::1', false], // partial byte of an IPv6 block
  ['::ffff:10.1.1.1', true],
];
for (const [addr, want] of blockRows) {
  test(`IpBlockSet: ${addr} ${want ? 'in' : 'not in'} the blocks`, () => {
    const b = new Uint8Array(16);
    assert.equal(set.contains(parseIpInto(addr, 0, addr.length, b), b), want);
  });
}
test('IpBlockSet: IPv6 ::/0 does not cover IPv4 clients', () => {
  const all6 = new IpBlockSet(['::/0']);
  const b = new Uint8Array(16);
  assert.equal(all6.contains(parseIpInto('::ffff:10.0.0.1', 0, 15, b), b), false);
  assert.equal(all6.contains(parseIpInto('2001:db8::1', 0, 11, b), b), true);
});
test('IpBlockSet: canonical spellings', () => {
  assert.deepEqual(parseIpBlock('10.0.0.0/8'), { ok: true, canonical: '10.0.0.0/8' });
  assert.deepEqual(parseIpBlock('2001:DB8::/32'), { ok: true, canonical: '2001:db8::/32' });
  assert.deepEqual(parseIpBlock('192.0.2.1'), { ok: true, canonical: '192.0.2.1/32' });
  assert.deepEqual(parseIpBlock('0.0.0.0/0'), { ok: true, canonical: '0.0.0.0/0' });
  assert.equal(parseIpBlock('10.0.0.0/08').ok, false);
});
