import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Span, type Tracer } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { ExchangeTracer, TracedExchange } from '../forward/index.ts';
import { formatTraceparent } from './trace-context.ts';
import { readTraceContext, replaceTraceHeaders } from './trace-headers.ts';

/** The peer's verified SPIFFE ID (inbound: the caller; outbound: the server). Not a semantic-convention name. */
export const ATTR_SPIFFE_PEER_ID = 'spiffe.peer.id';
/** Why the sidecar answered itself or gave up (a closed set of reasons, never a value from the request). */
export const ATTR_SIDECAR_REASON = 'spiffe_sidecar.reason';

/** Which side of the pod a tracer serves: inbound spans are SERVER spans, outbound ones CLIENT spans. */
export type TracedDirection = 'inbound' | 'outbound';

/**
 * An ExchangeTracer on an OpenTelemetry tracer: one span per request,
 * child of the caller's span when the request carried a valid
 * `traceparent`, and the forwarded request's `traceparent` names this
 * span, so app → outbound span → inbound span → app stays one linked trace.
 *
 * Attributes are the method, the path without its query, the status, the
 * peer's SPIFFE ID and the sidecar's reason: never a header value, a token
 * or a query string.
 */
export class SpanTracer implements ExchangeTracer {
  readonly #tracer: Tracer;
  readonly #kind: SpanKind;
  readonly #inbound: boolean;
  readonly #propagate: boolean;

  constructor(tracer: Tracer, direction: TracedDirection, propagate: boolean) {
    this.#tracer = tracer;
    this.#inbound = direction === 'inbound';
    this.#kind = this.#inbound ? SpanKind.SERVER : SpanKind.CLIENT;
    this.#propagate = propagate;
  }

  start(ex: TracedExchange): void {
    let context = ROOT_CONTEXT;
    let tracestate: string | null = null;
    if (this.#propagate) {
      const incoming = readTraceContext(ex.headers);
      const p = incoming.parent;
      if (p !== null) {
        tracestate = incoming.tracestate;
        context = trace.setSpanContext(ROOT_CONTEXT, {
          traceId: p.traceId,
          spanId: p.parentId,
          traceFlags: p.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
          isRemote: true,
        });
      }
    }
    const span = this.#tracer.startSpan(ex.method, { kind: this.#kind, attributes: { [ATTR_HTTP_REQUEST_METHOD]: ex.method } }, context);
    const sc = span.spanContext();
    ex.traceSpan = span;
    ex.traceId = sc.traceId;
    if (this.#propagate) {
      // The span exists even when not sampled (a non-recording span with its
      // own ID), so the app's trace stays connected either way.
      ex.headers = replaceTraceHeaders(ex.headers, formatTraceparent(sc.traceId, sc.spanId, (sc.traceFlags & TraceFlags.SAMPLED) !== 0), tracestate);
    }
  }

  end(ex: TracedExchange): void {
    const span = ex.traceSpan as Span | null;
    if (span === null) return;
    ex.traceSpan = null;
    if (span.isRecording()) {
      const target = ex.target;
      const q = target.indexOf('?');
      span.setAttribute(ATTR_URL_PATH, q === -1 ? target : target.slice(0, q));
      const peer = this.#inbound ? ex.conn.peerId : ex.serverId;
      if (peer !== '') span.setAttribute(ATTR_SPIFFE_PEER_ID, peer);
      if (ex.reason !== '') span.setAttribute(ATTR_SIDECAR_REASON, ex.reason);
      if (ex.status !== 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, ex.status);
      // HTTP semantic conventions: 5xx is an error on both sides, 4xx only
      // for a client span; no response at all is an error.
      if (ex.status === 0 || ex.status >= 500 || (!this.#inbound && ex.status >= 400)) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}
