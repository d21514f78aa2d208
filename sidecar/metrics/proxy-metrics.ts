/** Which way a connection or request goes through the sidecar. */
export type Direction = 'inbound' | 'outbound';

/**
 * Which upstream concurrency cap turned a request away with 503: the
 * downstream connection's, the caller's, or the upstream pool's
 * (limits.maxConnections connections, all busy).
 */
export type OverflowLimit = 'connection' | 'caller' | 'pool';

/** Every {@link OverflowLimit}, for pre-created series and tests. */
export const OVERFLOW_LIMITS: readonly OverflowLimit[] = Object.freeze(['connection', 'caller', 'pool']);

/**
 * Why a request body was cut off: it stalled (no byte either way for
 * limits.requestBodyIdleTimeout) or fell too far behind
 * limits.minUploadBytesPerSecond.
 */
export type BodyTimeoutReason = 'idle' | 'min_rate';

/** Every {@link BodyTimeoutReason}. */
export const BODY_TIMEOUT_REASONS: readonly BodyTimeoutReason[] = Object.freeze(['idle', 'min_rate']);

/**
 * What the proxies report, called on every request and connection. The
 * proxies depend on this interface only, so they can be tested with a fake
 * and never see prom-client. Implementations must never throw.
 */
export interface ProxyMetrics {
  /** An HTTP request finished; `code` 0 when no response was sent, `peerId` '' when the peer is unknown. */
  requestDone(direction: Direction, method: string, code: number, peerId: string, durationSeconds: number): void;
  /** A TLS handshake failed; `reason` is a short stable word such as `untrusted_peer`. */
  handshakeError(direction: Direction, reason: string): void;
  /** The inbound policy allowed or denied a caller. */
  authzDecision(decision: 'allow' | 'deny', peerId: string): void;
  /** A connection was accepted (inbound) or opened (outbound). */
  connectionOpened(direction: Direction): void;
  /** A connection counted by connectionOpened closed. */
  connectionClosed(direction: Direction): void;
  /** A request was answered 503 (with retry-after) because an upstream concurrency cap was full. */
  upstreamOverflow(direction: Direction, limit: OverflowLimit): void;
  /** A request body stalled or was too slow: answered 408 (or reset) and its upstream request reset. */
  requestBodyTimeout(direction: Direction, reason: BodyTimeoutReason): void;
  /** The client reset an HTTP/2 stream before its request was sent upstream, so it never was. */
  streamResetBeforeUpstream(direction: Direction): void;
}

/** A ProxyMetrics that records nothing, for tests and tools that run a proxy without metrics. */
export const noopProxyMetrics: ProxyMetrics = Object.freeze({
  requestDone() {},
  handshakeError() {},
  authzDecision() {},
  connectionOpened() {},
  connectionClosed() {},
  upstreamOverflow() {},
  requestBodyTimeout() {},
  streamResetBeforeUpstream() {},
});
