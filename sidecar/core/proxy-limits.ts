/**
 * Resource limits of one proxy listener: what the `limits` section of the
 * config holds (docs/config.md) and what the inbound, outbound and TCP
 * proxies take. Durations are milliseconds. The upstream budget fields are
 * optional so that a proxy built without them (tests, library users) gets
 * {@link UPSTREAM_BUDGET_DEFAULTS}; the config always sets every field.
 */
export interface ProxyLimits {
  /** Largest request head accepted; more is answered 431 (HTTP/1.1) or 431 on the stream (HTTP/2). */
  readonly maxHeaderBytes: number;
  /** Connections one listener holds at once; more are closed on accept. Also caps each upstream pool. */
  readonly maxConnections: number;
  /** A kept-alive HTTP/1.1 connection or an HTTP/2 session without a request is closed after this long. */
  readonly idleTimeoutMs: number;
  /** Deadline for the upstream's response headers (504 when missed); 0 = none, for streaming and gRPC. */
  readonly requestTimeoutMs: number;
  /** Time a client has to complete its TLS handshake and each request head (slowloris); 408 when missed. */
  readonly headersTimeoutMs: number;
  /** Time to establish a connection (TCP, and TLS when there is one) to an upstream. */
  readonly connectTimeoutMs: number;
  /**
   * Requests one downstream connection may have in flight upstream at once
   * (HTTP/2 streams, or pipelined HTTP/1.1 requests); more are answered 503.
   * Also the HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS this listener announces.
   */
  readonly maxConcurrentRequestsPerConnection?: number | undefined;
  /**
   * Requests one caller may have in flight upstream at once over all its
   * connections: the peer's SPIFFE ID inbound, the local app (one caller)
   * outbound. More are answered 503.
   */
  readonly maxConcurrentRequestsPerCaller?: number | undefined;
  /**
   * A request body that moves no byte (and gets no response byte) for this
   * long is cut off: 408, and the upstream request is reset. Also the grace
   * period of {@link minUploadBytesPerSecond}. 0 turns both off.
   */
  readonly requestBodyIdleTimeoutMs?: number | undefined;
  /**
   * Average rate a request body must keep up while it holds an HTTP/1.1
   * upstream connection: it may fall behind by at most
   * requestBodyIdleTimeoutMs (mod_reqtimeout's MinRate model). 0 = off.
   */
  readonly minUploadBytesPerSecond?: number | undefined;
}

/**
 * Defaults of the upstream budget (docs/security.md says why each value):
 * the config's defaults are the same numbers.
 */
export const UPSTREAM_BUDGET_DEFAULTS = Object.freeze({
  maxConcurrentRequestsPerConnection: 100,
  maxConcurrentRequestsPerCaller: 256,
  requestBodyIdleTimeoutMs: 30_000,
  minUploadBytesPerSecond: 1024,
});
