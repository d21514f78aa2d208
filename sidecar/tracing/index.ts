/**
 * tracing: W3C Trace Context (`traceparent`/`tracestate`) for the proxies
 * and one OpenTelemetry span per proxied request, exported over OTLP. Off
 * by default; the OpenTelemetry packages are imported only by
 * {@link loadTracing}, so nothing here costs a sidecar without tracing.
 *
 * It must not decide or change anything about a request other than its
 * trace-context headers, and must never record header values, tokens or
 * query strings: span attributes are the method, the path without query,
 * the status, the peer's SPIFFE ID and the sidecar's reason.
 */
export { parseTraceparent, formatTraceparent, checkTracestate } from './trace-context.ts';
export { readTraceContext, replaceTraceHeaders } from './trace-headers.ts';
export { loadTracing } from './load-tracing.ts';
export type { Tracing } from './otel-pipeline.ts';
export type { TracingOptions } from './tracing-options.ts';
