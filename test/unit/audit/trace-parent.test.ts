import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceIdFrom } from '../../../sidecar/audit/index.ts';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const GOOD = `00-${ID}-00f067aa0ba902b7-01`;

const rows: [string, string[], string][] = [
  ['valid version 00', ['traceparent', GOOD], ID],
  ['header name in any case', ['TraceParent', GOOD], ID],
  ['no header', ['host', 'x'], ''],
  ['two traceparent headers', ['traceparent', GOOD, 'traceparent', GOOD], ''],
  ['uppercase hex refused', ['traceparent', GOOD.toUpperCase()], ''],
  ['all-zero trace id', ['traceparent', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`], ''],
  ['all-zero parent id', ['traceparent', `00-${ID}-${'0'.repeat(16)}-01`], ''],
  ['version ff', ['traceparent', `ff-${ID}-00f067aa0ba902b7-01`], ''],
  ['version 00 with extra fields', ['traceparent', `${GOOD}-xyz`], ''],
  ['future version with extra fields', ['traceparent', `01-${ID}-00f067aa0ba902b7-01-xyz`], ID],
  ['future version without dash after flags', ['traceparent', `01-${ID}-00f067aa0ba902b7-01xyz`], ''],
  ['short', ['traceparent', `00-${ID}-00f067aa0ba902b7`], ''],
  ['bad flags', ['traceparent', `00-${ID}-00f067aa0ba902b7-0g`], ''],
  ['misplaced dash', ['traceparent', `00-${ID}00f067aa0ba902b7--01`], ''],
];
for (const [name, headers, want] of rows) test(`traceIdFrom (W3C Trace Context §3.2): ${name}`, () => assert.equal(traceIdFrom(headers), want));
