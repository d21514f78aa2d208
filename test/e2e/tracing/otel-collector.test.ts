/**
 * Tracing end to end: a real OpenTelemetry Collector (OTLP/HTTP receiver,
 * file exporter; built by test/support/install-otelcol.sh) receives the
 * spans of one request through a sidecar pair, and the trace is linked:
 * app span → frontend's outbound span → backend's inbound span → the
 * traceparent the backend app receives (W3C Trace Context §3.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { parseTraceparent } from '../../../sidecar/tracing/index.ts';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { eventually, freePorts, tempDir, viaOutbound } from '../../support/sidecar-harness.ts';
import { projectRoot } from '../../support/spire.ts';
import { requireTools } from '../../support/tools.ts';
import { portOpen } from '../../../bench/readiness-wait.ts';
import { BACKEND_ID, FRONTEND_ID, startPair, type Echo } from '../../support/app-fixtures.ts';

const run = promisify(execFile);
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const APP_SPAN_ID = 'b7ad6b7169203331';

/** One span as the file exporter writes it (OTLP JSON: IDs as hex strings). */
interface JsonSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes?: readonly { key: string; value: Record<string, unknown> }[];
}
interface SpanLine {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly { key: string; value: { stringValue?: string } }[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly JsonSpan[] }[];
  }[];
}

/** The spans in the exporter's file, each with its resource's service.name. */
function readSpans(file: string): { service: string; span: JsonSpan }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { service: string; span: JsonSpan }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    for (const rs of (JSON.parse(line) as SpanLine).resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) out.push({ service, span });
    }
  }
  return out;
}

function attr(span: JsonSpan, key: string): unknown {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v['stringValue'] ?? v['intValue']);
}

test('a request through a sidecar pair yields linked spans in an OpenTelemetry Collector', { timeout: 20 * 60_000 }, async (t) => {
  if (!requireTools(t, ['go'])) return;
  const built = await run(join(projectRoot, 'test', 'support', 'install-otelcol.sh'), [], { cwd: projectRoot, timeout: 20 * 60_000 });
  const collectorBin = built.stdout.trim().split('\n').pop()!;
  const dir = tempDir(t, 'tracing-e2e-');
  const spansFile = join(dir, 'spans.jsonl');
  const [otlpPort] = (await freePorts(1)) as [number];
  const collectorConfig = join(dir, 'otelcol.yaml');
  writeFileSync(
    collectorConfig,
    stringify({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}` } } } },
      exporters: { file: { path: spansFile, flush_interval: '100ms' } },
      service: {
        telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
        pipelines: { traces: { receivers: ['otlp'], exporters: ['file'] } },
      },
    }),
  );
  let collectorLog = '';
  const collector = spawn(collectorBin, ['--config', `file:${collectorConfig}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  collector.stdout.setEncoding('utf8').on('data', (d: string) => (collectorLog += d));
  collector.stderr.setEncoding('utf8').on('data', (d: string) => (collectorLog += d));
  t.after(() => {
    if (collector.exitCode === null) collector.kill('SIGKILL');
  });
  await eventually(
    () => {
      if (collector.exitCode !== null) throw new Error(`the collector exited (${collector.exitCode}):\n${collectorLog}`);
      return portOpen(otlpPort);
    },
    () => `collector did not listen on ${otlpPort}:\n${collectorLog}`,
  );

  const agent = await startDevAgent({ cleanup: t, workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] } });
  const tracing = { enabled: true, endpoint: `http://127.0.0.1:${otlpPort}/v1/traces` };
  const pair = await startPair(t, {
    agent,
    common: { tracing: { ...tracing, serviceName: 'frontend-sidecar' } },
    backend: { tracing: { ...tracing, serviceName: 'backend-sidecar' } },
  });

  const r = await viaOutbound(pair.outboundPort, '/orders/7?token=secret-value', 'backend', { headers: { traceparent: `00-${TRACE_ID}-${APP_SPAN_ID}-01` } });
  assert.equal(r.status, 200, r.body);
  const received = parseTraceparent(String((JSON.parse(r.body) as Echo).headers['traceparent']));
  assert.ok(received, 'the app received a valid traceparent');
  assert.equal(received.traceId, TRACE_ID, 'the app is in the caller trace');

  const spans = await eventually(
    () => {
      const s = readSpans(spansFile).filter((x) => x.span.traceId === TRACE_ID);
      return s.length >= 2 ? s : undefined;
    },
    () => `the collector did not receive both spans; file: ${JSON.stringify(readSpans(spansFile))}\n${collectorLog}`,
    30_000,
    200,
  );
  const outbound = spans.find((x) => x.service === 'frontend-sidecar')?.span;
  const inbound = spans.find((x) => x.service === 'backend-sidecar')?.span;
  assert.ok(outbound && inbound, JSON.stringify(spans));
  assert.equal(spans.length, 2, 'one span per sidecar');
  assert.equal(outbound.kind, 3, 'outbound span is SPAN_KIND_CLIENT');
  assert.equal(inbound.kind, 2, 'inbound span is SPAN_KIND_SERVER');
  assert.equal(outbound.parentSpanId, APP_SPAN_ID, "outbound span's parent is the app's span");
  assert.equal(inbound.parentSpanId, outbound.spanId, "inbound span's parent is the outbound span");
  assert.equal(received.parentId, inbound.spanId, "the app's traceparent names the inbound span");
  assert.equal(attr(inbound, 'spiffe.peer.id'), FRONTEND_ID);
  assert.equal(attr(outbound, 'spiffe.peer.id'), BACKEND_ID);
  assert.equal(attr(inbound, 'url.path'), '/orders/7');
  assert.equal(String(attr(inbound, 'http.response.status_code')), '200');
  assert.ok(!readFileSync(spansFile, 'utf8').includes('secret-value'), 'no query string in any span');
});
