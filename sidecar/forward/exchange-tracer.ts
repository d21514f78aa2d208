/**
 * The fields of a request a tracer reads and writes. Exchange has them all;
 * the interface names only these so that a tracer (sidecar/tracing) depends
 * on this one file and not on the per-request object model.
 */
export interface TracedExchange {
  /** The method as received. */
  readonly method: string;
  /** The request-target to send upstream (inbound: the normalised one); the query is never recorded. */
  readonly target: string;
  /** The request headers as forwarded (name, value, ...): a tracer replaces the trace-context pairs. */
  headers: string[];
  /** Status sent downstream; 0 when no response went out. */
  readonly status: number;
  /** Why the proxy answered itself or gave up ('' when the upstream answered). */
  readonly reason: string;
  /** The upstream's verified server ID (outbound). */
  readonly serverId: string;
  readonly conn: { readonly peerId: string };
  /** The request's trace ID (32 lowercase hex digits); '' when tracing is off. */
  traceId: string;
  /** The tracer's own per-request state (its span); null before start(). */
  traceSpan: object | null;
}

/**
 * Called by HttpFront around every request when tracing is on: start()
 * before the route decides (so the forwarded request carries the new trace
 * context), end() once the request is counted. Both must not throw.
 */
export interface ExchangeTracer {
  start(ex: TracedExchange): void;
  end(ex: TracedExchange): void;
}
