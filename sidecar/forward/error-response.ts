import { Http1Error } from '../http1/index.ts';
import { PeerNotAuthorized, reasonForOpensslCode } from '../tls/index.ts';
import { ForwardError } from './forward-error.ts';

/** How the proxy answers a request whose forwarding failed before a response started. */
export interface ErrorResponse {
  readonly status: number;
  /** One line of plain text naming the cause; never secrets. */
  readonly body: string;
  /** Short stable label for the access log and metrics. */
  readonly reason: string;
  /** Seconds for a `retry-after` header (RFC 9110 §10.2.3), when retrying later may succeed; 0 = none. */
  readonly retryAfter: number;
}

/** `retry-after` of an overflow 503: the budget frees up as soon as any request of the caller ends. */
export const OVERFLOW_RETRY_AFTER_SECONDS = 1;

const byForwardCode: Readonly<Record<string, readonly [number, string]>> = {
  'forward.connect_failed': [503, 'upstream_unavailable'],
  'forward.connect_timeout': [503, 'upstream_unavailable'],
  'forward.timeout': [504, 'upstream_timeout'],
  'forward.upstream_reset': [502, 'upstream_reset'],
  'forward.protocol': [502, 'upstream_protocol'],
  'forward.no_svid': [503, 'no_svid'],
  'forward.closed': [503, 'shutting_down'],
  'forward.unsupported': [502, 'unsupported'],
  'forward.overloaded': [503, 'upstream_overloaded'],
  'forward.cancelled': [502, 'cancelled'],
};

/** Node error codes that mean "the upstream went away before answering". */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_SESSION_ERROR', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Maps any error from the upstream side to the status, body and label the
 * client sees: the one place each failure gets its HTTP meaning, so status,
 * body and metric label can never disagree. 503 = no connection could be made, 504 = the upstream took too
 * long, 502 = it answered wrongly or is not who it must be, 400 = our client
 * sent something we cannot forward.
 */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof ForwardError) {
    const [status, reason] = byForwardCode[err.code] ?? [502, 'upstream_error'];
    return { status, body: err.detail, reason, retryAfter: err.code === 'forward.overloaded' ? OVERFLOW_RETRY_AFTER_SECONDS : 0 };
  }
  if (err instanceof PeerNotAuthorized) {
    // The ID is verified (it chained to a trusted bundle), so naming it is
    // safe and is what an operator needs to fix a route or a registration.
    return {
      status: 502,
      body: `upstream identity mismatch: expected ${err.expected ?? 'an authorized ID'}, presented ${err.presentedId}`,
      reason: 'identity_mismatch',
      retryAfter: 0,
    };
  }
  if (err instanceof Http1Error) {
    // Thrown while writing our request head: a field the next hop cannot carry (from an HTTP/2 caller).
    return { status: 400, body: `request cannot be forwarded: ${err.message}`, reason: 'bad_request', retryAfter: 0 };
  }
  const e = (err ?? {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code.startsWith('x509svid.') || code === 'tls.peer_handshake_rejected') {
    return { status: 502, body: `upstream TLS verification failed: ${typeof e.reason === 'string' ? e.reason : code}`, reason: 'upstream_tls', retryAfter: 0 };
  }
  if (code === 'ABORT_ERR') return { status: 499, body: 'request aborted', reason: 'client_abort', retryAfter: 0 };
  if (RESET_CODES.has(code)) return { status: 502, body: `upstream connection closed before a response (${code})`, reason: 'upstream_reset', retryAfter: 0 };
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || reasonForOpensslCode(code) !== 'handshake_failed') {
    return { status: 502, body: `upstream TLS error: ${code}`, reason: 'upstream_tls', retryAfter: 0 };
  }
  return { status: 502, body: `upstream error: ${code || 'unknown'}`, reason: 'upstream_error', retryAfter: 0 };
}
