/** Reading the claimed client chain (RFC 7239 §4 `for=`, X-Forwarded-For): one row per rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FORWARDED_HOPS, forwardedFor } from '../../../sidecar/enforcement/index.ts';

const rows: { name: string; raw: string[]; addresses?: string[]; problem?: RegExp }[] = [
  { name: 'no header: empty chain', raw: ['host', 'a'], addresses: [] },
  { name: 'X-Forwarded-For list, leftmost first', raw: ['X-Forwarded-For', '198.51.100.7, 10.0.0.1'], addresses: ['198.51.100.7', '10.0.0.1'] },
  { name: 'several XFF lines are one list in order', raw: ['x-forwarded-for', '1.1.1.1', 'X-Forwarded-For', '2.2.2.2'], addresses: ['1.1.1.1', '2.2.2.2'] },
  { name: 'underscore spelling is the same header (CGI stacks merge them)', raw: ['X_Forwarded_For', '1.1.1.1'], addresses: ['1.1.1.1'] },
  { name: 'XFF port stripped, bare IPv6 kept', raw: ['x-forwarded-for', '192.0.2.1:8080, 2001:db8::1'], addresses: ['192.0.2.1', '2001:db8::1'] },
  { name: 'XFF empty element refused', raw: ['x-forwarded-for', '1.1.1.1,,2.2.2.2'], problem: /empty element/ },
  { name: 'Forwarded wins over X-Forwarded-For', raw: ['x-forwarded-for', '9.9.9.9', 'Forwarded', 'for=192.0.2.60;proto=https'], addresses: ['192.0.2.60'] },
  { name: 'Forwarded quoted IPv6 with port', raw: ['forwarded', 'for="[2001:db8:cafe::17]:4711", for=10.0.0.1'], addresses: ['2001:db8:cafe::17', '10.0.0.1'] },
  { name: 'Forwarded parameter names are case-insensitive', raw: ['forwarded', 'For=192.0.2.43;By=10.0.0.1'], addresses: ['192.0.2.43'] },
  { name: 'Forwarded obfuscated and unknown nodes stay in place', raw: ['forwarded', 'for=_hidden, for=unknown, for=10.0.0.1'], addresses: ['_hidden', 'unknown', '10.0.0.1'] },
  { name: 'Forwarded element without for= counts as unknown', raw: ['forwarded', 'proto=https, for=10.0.0.1'], addresses: ['unknown', '10.0.0.1'] },
  { name: 'Forwarded unterminated quote refused', raw: ['forwarded', 'for="[2001:db8::1]'], problem: /unterminated/ },
  { name: 'Forwarded two for= in one element refused', raw: ['forwarded', 'for=1.1.1.1;for=2.2.2.2'], problem: /two for=/ },
  { name: 'Forwarded parameter without value refused', raw: ['forwarded', 'for'], problem: /without a value/ },
  { name: 'too many hops refused', raw: ['x-forwarded-for', Array.from({ length: MAX_FORWARDED_HOPS + 1 }, () => '1.1.1.1').join(',')], problem: /more than/ },
];

for (const row of rows) {
  test(`forwardedFor: ${row.name}`, () => {
    const r = forwardedFor(row.raw);
    if (row.problem) {
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.problem : '', row.problem);
    } else {
      assert.ok(r.ok);
      assert.deepEqual(r.ok && r.addresses, row.addresses);
    }
  });
}
