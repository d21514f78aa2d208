/**
 * Every answer the proxy engine gives in place of an upstream, in both
 * directions: protocol refusals, exhausted limits and upstream failures.
 * One closed set of reasons, each with its status, default body, extra
 * headers, whether the downstream connection (HTTP/1.1) or stream (HTTP/2)
 * ends after it, and the level its log line gets; decided here and nowhere
 * else in forward/. The callers' own refusals have their maps:
 * enforcement/local-answer.ts (inbound) and outbound/outbound-answer.ts.
 */

/** Log level of a local answer's log line ('debug' for what only the access log needs). */
export type AnswerLevel = 'debug' | 'info' | 'warn' | 'error';

/** Why the proxy engine answered a request itself; safe as a metric label and in access logs. */
export type ForwardAnswerReason =
  // Refusals of the request as it came.
  | 'malformed_request'
  | 'headers_timeout'
  | 'header_too_large'
  | 'connect_refused'
  | 'connection_overflow'
  | 'caller_overflow'
  | 'request_body_timeout'
  | 'request_body_too_slow'
  | 'bad_request'
  | 'internal'
  // Upstream failures before a response started.
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_reset'
  | 'upstream_protocol'
  | 'upstream_overloaded'
  | 'upstream_tls'
  | 'identity_mismatch'
  | 'no_svid'
  | 'shutting_down'
  | 'unsupported'
  | 'cancelled'
  | 'client_abort'
  | 'upstream_error';

/**
 * What `Exchange.answer` needs of a row of any direction's map (this
 * one, enforcement/local-answer.ts, outbound/outbound-answer.ts).
 */
export interface AnswerRow {
  readonly reason: string;
  readonly status: number;
  /** Plain text sent when the caller has no more precise detail; never secrets. */
  readonly body: string;
  /** Extra response headers (name, value, ...). */
  readonly headers: readonly string[];
  /** The downstream HTTP/1.1 connection (or HTTP/2 stream) ends after the answer: what follows cannot be read safely. */
  readonly close: boolean;
  readonly level: AnswerLevel;
}

/** One row of the proxy engine's map. */
export interface ForwardAnswer extends AnswerRow {
  readonly reason: ForwardAnswerReason;
}

/** `retry-after` of an overflow 503: the budget frees up as soon as any request of the caller ends. */
export const OVERFLOW_RETRY_AFTER_SECONDS = 1;

const NONE: readonly string[] = Object.freeze([]);
const RETRY_SOON: readonly string[] = Object.freeze(['retry-after', String(OVERFLOW_RETRY_AFTER_SECONDS)]);

function row(reason: ForwardAnswerReason, status: number, body: string, o: { close?: boolean; level?: AnswerLevel; headers?: readonly string[] } = {}): ForwardAnswer {
  return Object.freeze({ reason, status, body, headers: o.headers ?? NONE, close: o.close ?? false, level: o.level ?? 'debug' });
}

const CONNECT_REFUSED = 'CONNECT is not supported: this sidecar forwards requests only to configured destinations';

/**
 * The map. Statuses: 400/405/408/431 for requests that cannot be taken as
 * sent (RFC 9110 §15.5, RFC 6585 §5), 503 when no connection could be
 * made or a budget is full (with `retry-after` where a retry soon can
 * succeed, RFC 9110 §10.2.3), 504 when the upstream took too long, 502
 * when it answered wrongly or is not who it must be, 499 (a client that
 * went away; never sent, only logged). A malformed HTTP/1.1 head is
 * answered with the status sidecar/http1's Http1Error names for the rule
 * it broke (400, 417, 431, 501 or 505); its row gives the rest.
 */
export const FORWARD_ANSWERS: Readonly<Record<ForwardAnswerReason, ForwardAnswer>> = Object.freeze({
  malformed_request: row('malformed_request', 400, 'bad request', { close: true }),
  headers_timeout: row('headers_timeout', 408, 'request head not received in time (limits.headersTimeout)', { close: true }),
  header_too_large: row('header_too_large', 431, 'request header fields too large'),
  connect_refused: row('connect_refused', 405, CONNECT_REFUSED, { close: true }),
  connection_overflow: row('connection_overflow', 503, 'too many concurrent requests on this connection (limits.maxConcurrentRequestsPerConnection)', { headers: RETRY_SOON }),
  caller_overflow: row('caller_overflow', 503, 'too many concurrent requests from this caller (limits.maxConcurrentRequestsPerCaller)', { headers: RETRY_SOON }),
  request_body_timeout: row('request_body_timeout', 408, 'request body stalled (limits.requestBodyIdleTimeout)', { close: true }),
  request_body_too_slow: row('request_body_too_slow', 408, 'request body too slow (limits.minUploadBytesPerSecond)', { close: true }),
  bad_request: row('bad_request', 400, 'request cannot be forwarded'),
  internal: row('internal', 500, 'internal error in the sidecar', { level: 'error' }),
  upstream_unavailable: row('upstream_unavailable', 503, 'upstream connect error'),
  upstream_timeout: row('upstream_timeout', 504, 'upstream timeout'),
  upstream_reset: row('upstream_reset', 502, 'upstream connection closed before a response'),
  upstream_protocol: row('upstream_protocol', 502, 'upstream sent an invalid response'),
  upstream_overloaded: row('upstream_overloaded', 503, 'all upstream connections are busy', { headers: RETRY_SOON }),
  upstream_tls: row('upstream_tls', 502, 'upstream TLS error', { level: 'warn' }),
  identity_mismatch: row('identity_mismatch', 502, 'upstream identity mismatch', { level: 'warn' }),
  no_svid: row('no_svid', 503, 'no SVID to present'),
  shutting_down: row('shutting_down', 503, 'proxy is shutting down'),
  unsupported: row('unsupported', 502, 'request cannot be forwarded to this upstream'),
  cancelled: row('cancelled', 502, 'upstream request cancelled'),
  client_abort: row('client_abort', 499, 'request aborted'),
  upstream_error: row('upstream_error', 502, 'upstream error'),
});

/** Every {@link ForwardAnswerReason}, for pre-registering metric label values. */
export const FORWARD_ANSWER_REASONS: readonly ForwardAnswerReason[] = Object.freeze(Object.keys(FORWARD_ANSWERS) as ForwardAnswerReason[]);
