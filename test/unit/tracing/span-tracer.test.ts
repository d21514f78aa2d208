import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { TracedExchange } from '../../../sidecar/forward/index.ts';
import { createTracing } from '../../../sidecar/tracing/otel-pipeline.ts';
import { parseTraceparent, type TracingOptions } from '../../../sidecar/tracing/index.ts';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PID = '00f067aa0ba902b7';
const OPTIONS: TracingOptions = { endpoint: 'http://127.0.0.1:1/v1/traces', serviceName: 'test', samplingRatio: 1, propagate: true, exportTimeoutMs: 1000 };

function exchange(headers: string[], over: Partial<TracedExchange> = {}): TracedExchange {
  return {
    method: 'GET',
    target: '/orders/7?token=secret',
    headers,
    status: 200,
    reason: '',
    serverId: 'spiffe://example.org/server',
    conn: { peerId: 'spiffe://example.org/caller' },
    traceId: '',
    traceSpan: null,
    ...over,
  };
}

/** Runs one request through a tracer and returns the finished spans and the forwarded traceparent. */
async function run(ex: TracedExchange, options: Partial<TracingOptions> = {}, direction: 'inbound' | 'outbound' = 'inbound') {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ ...OPTIONS, ...options }, exporter);
  const tracer = tracing.forDirection(direction);
  tracer.start(ex);
  const forwarded = forwardedTraceparent(ex.headers);
  tracer.end(ex);
  // The in-memory exporter forgets its spans on shutdown: read them after a flush.
  await tracing.flush();
  const spans = exporter.getFinishedSpans();
  await tracing.shutdown();
  return { spans, forwarded };
}

function forwardedTraceparent(headers: readonly string[]): string | undefined {
  const i = headers.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === 'traceparent');
  return i === -1 ? undefined : headers[i + 1];
}

test('a valid traceparent is continued: the span is its child and the forwarded one names the span', async () => {
  const ex = exchange(['traceparent', `00-${TID}-${PID}-01`, 'tracestate', 'a=1']);
  const { spans, forwarded } = await run(ex);
  assert.equal(spans.length, 1);
  const span = spans[0]!;
  assert.equal(span.spanContext().traceId, TID);
  assert.equal(span.parentSpanContext?.spanId, PID);
  assert.equal(ex.traceId, TID);
  assert.deepEqual(parseTraceparent(forwarded!), { traceId: TID, parentId: span.spanContext().spanId, sampled: true });
  assert.equal(ex.headers.filter((h) => h === 'traceparent').length, 1);
  assert.ok(ex.headers.includes('a=1'), 'tracestate is passed on');
});

test('without a traceparent a new trace starts and is propagated', async () => {
  const ex = exchange(['host', 'x']);
  const { spans, forwarded } = await run(ex);
  const span = spans[0]!;
  assert.equal(span.parentSpanContext, undefined);
  assert.match(ex.traceId, /^[0-9a-f]{32}$/);
  assert.equal(parseTraceparent(forwarded!)?.parentId, span.spanContext().spanId);
});

test('an invalid traceparent starts a new trace and is replaced', async () => {
  const ex = exchange(['traceparent', `00-${'0'.repeat(32)}-${PID}-01`]);
  const { spans, forwarded } = await run(ex);
  assert.notEqual(spans[0]!.spanContext().traceId, '0'.repeat(32));
  assert.equal(parseTraceparent(forwarded!)?.traceId, spans[0]!.spanContext().traceId);
});

test('a caller that did not sample is followed: nothing recorded, the trace still propagated unsampled', async () => {
  const ex = exchange(['traceparent', `00-${TID}-${PID}-00`]);
  const { spans, forwarded } = await run(ex);
  assert.equal(spans.length, 0);
  const p = parseTraceparent(forwarded!)!;
  assert.equal(p.traceId, TID);
  assert.notEqual(p.parentId, PID);
  assert.equal(p.sampled, false);
});

test('samplingRatio 0 records no new trace', async () => {
  const { spans, forwarded } = await run(exchange([]), { samplingRatio: 0 });
  assert.equal(spans.length, 0);
  assert.equal(parseTraceparent(forwarded!)?.sampled, false);
});

test('propagate false: a new trace, and the headers pass untouched', async () => {
  const headers = ['traceparent', `00-${TID}-${PID}-01`];
  const ex = exchange([...headers]);
  const { spans } = await run(ex, { propagate: false });
  assert.notEqual(spans[0]!.spanContext().traceId, TID);
  assert.deepEqual(ex.headers, headers);
});

test('attributes: method, path without query, status, peer ID; never the query', async () => {
  const { spans } = await run(exchange([]));
  const a = spans[0]!.attributes;
  assert.equal(a['http.request.method'], 'GET');
  assert.equal(a['url.path'], '/orders/7');
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['spiffe.peer.id'], 'spiffe://example.org/caller');
  assert.ok(!JSON.stringify(a).includes('secret'));
});

test('outbound spans name the server as the peer and are CLIENT spans', async () => {
  const { spans } = await run(exchange([]), {}, 'outbound');
  assert.equal(spans[0]!.attributes['spiffe.peer.id'], 'spiffe://example.org/server');
  assert.equal(spans[0]!.kind, 2 /* SpanKind.CLIENT */);
});

const statusRows: { name: string; direction: 'inbound' | 'outbound'; status: number; error: boolean }[] = [
  { name: 'inbound 200 is not an error', direction: 'inbound', status: 200, error: false },
  { name: 'inbound 403 is not an error of the server span', direction: 'inbound', status: 403, error: false },
  { name: 'outbound 403 is an error of the client span', direction: 'outbound', status: 403, error: true },
  { name: 'inbound 502 is an error', direction: 'inbound', status: 502, error: true },
  { name: 'no response is an error', direction: 'inbound', status: 0, error: true },
];
for (const row of statusRows) {
  test(`span status: ${row.name}`, async () => {
    const { spans } = await run(exchange([], { status: row.status, reason: row.status === 0 ? 'client_abort' : '' }), {}, row.direction);
    assert.equal(spans[0]!.status.code === 2 /* SpanStatusCode.ERROR */, row.error);
    if (row.status === 0) assert.equal(spans[0]!.attributes['spiffe_sidecar.reason'], 'client_abort');
  });
}

test('end without start does nothing', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing(OPTIONS, exporter);
  tracing.forDirection('inbound').end(exchange([]));
  await tracing.flush();
  assert.equal(exporter.getFinishedSpans().length, 0);
  await tracing.shutdown();
});
