import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTraceContext, replaceTraceHeaders } from '../../../sidecar/tracing/index.ts';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', sampled: true };

const rows: { name: string; headers: string[]; want: ReturnType<typeof readTraceContext> }[] = [
  { name: 'no trace headers', headers: ['host', 'a', 'accept', '*/*'], want: { parent: null, tracestate: null } },
  { name: 'traceparent in any case', headers: ['TraceParent', TP], want: { parent: PARENT, tracestate: null } },
  { name: 'two traceparent lines are invalid', headers: ['traceparent', TP, 'traceparent', TP], want: { parent: null, tracestate: null } },
  { name: 'tracestate without a valid traceparent is dropped', headers: ['tracestate', 'a=1'], want: { parent: null, tracestate: null } },
  { name: 'tracestate lines are joined', headers: ['traceparent', TP, 'tracestate', 'a=1', 'TraceState', 'b=2'], want: { parent: PARENT, tracestate: 'a=1,b=2' } },
  { name: 'malformed tracestate is dropped, parent kept', headers: ['traceparent', TP, 'tracestate', 'A=1'], want: { parent: PARENT, tracestate: null } },
  { name: 'malformed traceparent', headers: ['traceparent', 'garbage'], want: { parent: null, tracestate: null } },
];

for (const row of rows) {
  test(`readTraceContext: ${row.name}`, () => {
    assert.deepEqual(readTraceContext(row.headers), row.want);
  });
}

test('replaceTraceHeaders appends to a list without trace headers, in place', () => {
  const h = ['host', 'a'];
  const out = replaceTraceHeaders(h, TP, null);
  assert.equal(out, h);
  assert.deepEqual(out, ['host', 'a', 'traceparent', TP]);
});

test('replaceTraceHeaders removes every old trace header, any case, and adds the new pair', () => {
  const out = replaceTraceHeaders(['TRACEPARENT', 'old', 'host', 'a', 'tracestate', 'x=1', 'Tracestate', 'y=2'], TP, 'a=1');
  assert.deepEqual(out, ['host', 'a', 'traceparent', TP, 'tracestate', 'a=1']);
});

test('replaceTraceHeaders leaves headers of the same length but another name', () => {
  assert.deepEqual(replaceTraceHeaders(['x-requestid', 'v', 'x-another', 'w'], TP, null), ['x-requestid', 'v', 'x-another', 'w', 'traceparent', TP]);
});
