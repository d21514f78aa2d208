import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTracestate, formatTraceparent, parseTraceparent } from '../../../sidecar/tracing/index.ts';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PID = '00f067aa0ba902b7';

// One row per W3C Trace Context Level 1 rule (§3.2 traceparent).
const traceparentRows: { name: string; value: string; want: { traceId: string; parentId: string; sampled: boolean } | null }[] = [
  { name: 'valid, sampled', value: `00-${TID}-${PID}-01`, want: { traceId: TID, parentId: PID, sampled: true } },
  { name: 'valid, not sampled', value: `00-${TID}-${PID}-00`, want: { traceId: TID, parentId: PID, sampled: false } },
  { name: 'only bit 0 of trace-flags means sampled (§3.2.2.5)', value: `00-${TID}-${PID}-02`, want: { traceId: TID, parentId: PID, sampled: false } },
  { name: 'shorter than 55 characters', value: `00-${TID}-${PID}-0`, want: null },
  { name: 'version 00 with trailing data (§3.2.4)', value: `00-${TID}-${PID}-01-extra`, want: null },
  { name: 'a later version may carry more fields after a dash', value: `cc-${TID}-${PID}-01-what-the-future-holds`, want: { traceId: TID, parentId: PID, sampled: true } },
  { name: 'a later version with trailing data not after a dash', value: `cc-${TID}-${PID}-01x`, want: null },
  { name: 'version ff is invalid (§3.2.2.1)', value: `ff-${TID}-${PID}-01`, want: null },
  { name: 'version not hex', value: `0g-${TID}-${PID}-01`, want: null },
  { name: 'uppercase hex is invalid (§3.2.2)', value: `00-${TID.toUpperCase()}-${PID}-01`, want: null },
  { name: 'all-zero trace-id (§3.2.2.3)', value: `00-${'0'.repeat(32)}-${PID}-01`, want: null },
  { name: 'all-zero parent-id (§3.2.2.4)', value: `00-${TID}-${'0'.repeat(16)}-01`, want: null },
  { name: 'wrong separator', value: `00_${TID}-${PID}-01`, want: null },
  { name: 'trace-id not hex', value: `00-${TID.slice(0, 31)}z-${PID}-01`, want: null },
  { name: 'parent-id not hex', value: `00-${TID}-${PID.slice(0, 15)}z-01`, want: null },
  { name: 'flags not hex', value: `00-${TID}-${PID}-0z`, want: null },
];

for (const row of traceparentRows) {
  test(`parseTraceparent: ${row.name}`, () => {
    assert.deepEqual(parseTraceparent(row.value), row.want);
  });
}

test('formatTraceparent writes version 00 with the sampled flag', () => {
  assert.equal(formatTraceparent(TID, PID, true), `00-${TID}-${PID}-01`);
  assert.equal(formatTraceparent(TID, PID, false), `00-${TID}-${PID}-00`);
});

// §3.3 tracestate.
const tracestateRows: { name: string; value: string; want: string | null }[] = [
  { name: 'one member', value: 'congo=t61rcWkgMzE', want: 'congo=t61rcWkgMzE' },
  { name: 'members with optional whitespace are trimmed', value: ' rojo=00f067aa0ba902b7 ,congo=t61rcWkgMzE ', want: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' },
  { name: 'empty list-members are skipped', value: 'a=1,,b=2', want: 'a=1,b=2' },
  { name: 'multi-tenant key', value: 'tenant@vendor=x', want: 'tenant@vendor=x' },
  { name: 'member without =', value: 'a=1,b', want: null },
  { name: 'key with an uppercase letter', value: 'Abc=1', want: null },
  { name: 'value with a comma-free but = character', value: 'a=b=c', want: null },
  { name: 'a value may hold inner spaces', value: 'a=1 ,b=2 x', want: 'a=1,b=2 x' },
  { name: 'repeated key', value: 'a=1,a=2', want: null },
  { name: 'more than 32 members', value: Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), want: null },
  { name: 'longer than 512 characters', value: `a=${'x'.repeat(255)},b=${'y'.repeat(255)}`, want: null },
  { name: 'only empty members', value: ' , ', want: null },
];

for (const row of tracestateRows) {
  test(`checkTracestate: ${row.name}`, () => {
    assert.equal(checkTracestate(row.value), row.want);
  });
}
