import type { SpiffeId } from '../spiffe/index.ts';
import type { CallerIdentity } from '../headers/index.ts';

/** What the proxy knows about the connection a request came in on. */
export interface ConnInfo {
  /** The verified caller (inbound); undefined for the app's own connections (outbound). */
  readonly peer: SpiffeId | undefined;
  /** `peer` as a string, '' when there is none: the inbound metric and log label. */
  readonly peerId: string;
  /** The identity header values for this caller, computed once per connection (inbound). */
  readonly caller: CallerIdentity | undefined;
  /** SHA-256 of the peer's leaf certificate, hex (inbound): what a certificate-bound token must name (RFC 8705 §3). */
  readonly peerCertSha256Hex?: string | undefined;
  /** The direct peer's IP address (inbound). */
  readonly peerAddress?: string | undefined;
}

/**
 * The requests of one downstream connection (an HTTP/1.1 socket or an
 * HTTP/2 session) that hold upstream capacity now, for
 * limits.maxConcurrentRequestsPerConnection.
 */
export interface ConnLoad {
  active: number;
}

/** The connection info of the app's plain connections to the outbound listener. */
export const LOCAL_APP_CONN: ConnInfo = Object.freeze({ peer: undefined, peerId: '', caller: undefined });

/**
 * The request record: the per-request fields the route, enforcement,
 * audit, tracing, metrics and the access log read and write. Exchange is
 * the one object per request that carries them (docs/decisions/016); this
 * interface names them apart from its downstream and upstream roles, so a
 * reader of a record depends on this file only.
 */
export interface RequestRecord {
  readonly conn: ConnInfo;
  /** The downstream connection's count of requests holding upstream capacity. */
  readonly load: ConnLoad;
  /** The method as received. */
  readonly method: string;
  /** The request-target as received (for logs and policy). */
  readonly path: string;
  /** The request-target to send upstream (inbound sets the normalised one). */
  target: string;
  /** End-to-end request headers (name, value, ...), as they will be forwarded. */
  headers: string[];
  /** Host / :authority as received; '' when there was none. */
  readonly authority: string;
  /** `websocket` for an upgrade request, '' otherwise. */
  readonly upgrade: string;
  readonly hasBody: boolean;
  /** Status sent downstream; 0 until a response head went out. */
  readonly status: number;
  /** The upstream's verified server ID (outbound), the metric label there. */
  readonly serverId: string;
  /** Access-log fields. */
  dst: string;
  decision: string;
  /** Why the proxy answered itself or gave up ('' when the upstream answered); a reason code of a local-answer map. */
  reason: string;
  /** The policy rule that decided (inbound); '' when none did. */
  rule: string;
  /** The verified end user's `sub` and OAuth client (inbound); '' without a token. */
  subject: string;
  clientId: string;
  /** The request's W3C trace ID (32 lowercase hex digits); '' when tracing is off. */
  traceId: string;
  /** The tracer's span for this request (sidecar/tracing); null when tracing is off. */
  traceSpan: object | null;
  /** The dry-run rules that matched (inbound enforcement sets it), for the audit log. */
  dryRun: readonly { readonly rule: string; readonly outcome: 'would_allow' | 'would_deny' }[] | undefined;
  /** Request body bytes received. */
  readonly bodyBytes: number;
  /** Response body bytes relayed downstream. */
  readonly responseBytes: number;
}
