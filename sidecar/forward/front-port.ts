import type { Direction, OverflowLimit, ProxyMetrics } from '../metrics/index.ts';
import type { AnswerRow } from './forward-answer.ts';
import type { HeaderNameSet } from './header-name-set.ts';
import type { ProxyLimits } from '../core/index.ts';
import type { ConnInfo, ConnLoad, RequestRecord } from './request-record.ts';
import type { UploadWatch } from './upload-watch.ts';

/**
 * What a request needs from the listener side that made it (HttpFront):
 * limits, metrics, the upstream budget, upload watching, and the end of
 * the request's accounting. Generic in the request type, so that this file
 * and the request's own never import each other.
 */
export interface FrontPort<R extends RequestRecord> {
  readonly direction: Direction;
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  /** True once the listener drains: responses close their HTTP/1.1 connection. */
  readonly draining: boolean;
  /** Request headers removed before the route sees the request; null for none. */
  readonly droppedRequestHeaders: HeaderNameSet | null;
  /** Watches request bodies for stalls and crawls. */
  readonly uploads: UploadWatch;
  /** Counts a new request (drain accounting). */
  requestStarted(): void;
  /** Takes one unit of the connection's and the caller's upstream budget, or names the full one. */
  admit(req: R): OverflowLimit | null;
  /** Returns what {@link admit} took. */
  release(req: R): void;
  /** Metrics, tracing, audit, access log and drain accounting of a finished request; once per request. */
  requestDone(req: R, seconds: number): void;
  /** Logs an upstream failure at the level of its answer-map row. */
  upstreamError(req: R, answer: AnswerRow, err: unknown): void;
}

/** Per-session bookkeeping for an HTTP/2 downstream connection. */
export interface H2SessionState extends ConnLoad {
  readonly conn: ConnInfo;
  /** Streams open on the session (an idle session is closed after idleTimeoutMs). */
  streams: number;
}
