/** Which way a connection or request goes through the sidecar. */
export type Direction = 'inbound' | 'outbound';

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
}

/** A ProxyMetrics that records nothing, for tests and tools that run a proxy without metrics. */
export const noopProxyMetrics: ProxyMetrics = Object.freeze({
  requestDone() {},
  handshakeError() {},
  authzDecision() {},
  connectionOpened() {},
  connectionClosed() {},
});
