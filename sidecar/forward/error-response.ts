import { Http1Error } from '../http1/index.ts';
import { PeerNotAuthorized, reasonForOpensslCode } from '../tls/index.ts';
import { FORWARD_ANSWERS, OVERFLOW_RETRY_AFTER_SECONDS, type ForwardAnswer, type ForwardAnswerReason } from './forward-answer.ts';
import { ForwardError, type ForwardErrorCode } from './forward-error.ts';

export { OVERFLOW_RETRY_AFTER_SECONDS };

/** How the proxy answers a request whose forwarding failed before a response started. */
export interface ErrorResponse {
  /** The row of the answer map (forward-answer.ts): status, headers, close, log level. */
  readonly answer: ForwardAnswer;
  readonly status: number;
  /** One line of plain text naming the cause; never secrets. */
  readonly body: string;
  /** Short stable label for the access log and metrics. */
  readonly reason: ForwardAnswerReason;
  /** Seconds for a `retry-after` header (RFC 9110 §10.2.3), when retrying later may succeed; 0 = none. */
  readonly retryAfter: number;
}

const byForwardCode: Readonly<Record<ForwardErrorCode, ForwardAnswer>> = {
  'forward.connect_failed': FORWARD_ANSWERS.upstream_unavailable,
  'forward.connect_timeout': FORWARD_ANSWERS.upstream_unavailable,
  'forward.timeout': FORWARD_ANSWERS.upstream_timeout,
  'forward.upstream_reset': FORWARD_ANSWERS.upstream_reset,
  'forward.protocol': FORWARD_ANSWERS.upstream_protocol,
  'forward.closed': FORWARD_ANSWERS.shutting_down,
  'forward.unsupported': FORWARD_ANSWERS.unsupported,
  'forward.overloaded': FORWARD_ANSWERS.upstream_overloaded,
  'forward.cancelled': FORWARD_ANSWERS.cancelled,
};

/** Node error codes that mean "the upstream went away before answering". */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_SESSION_ERROR', 'ERR_STREAM_PREMATURE_CLOSE']);

function response(answer: ForwardAnswer, body: string): ErrorResponse {
  const retryAfter = answer === FORWARD_ANSWERS.upstream_overloaded ? OVERFLOW_RETRY_AFTER_SECONDS : 0;
  return { answer, status: answer.status, body, reason: answer.reason, retryAfter };
}

/**
 * Maps any error from the upstream side to its row of the answer map
 * (forward-answer.ts) and the one line of detail the client sees, so
 * status, body, metric label and log level can never disagree.
 */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof ForwardError) return response(byForwardCode[err.code] ?? FORWARD_ANSWERS.upstream_error, err.detail);
  if (err instanceof PeerNotAuthorized) {
    // The ID is verified (it chained to a trusted bundle), so naming it is
    // safe and is what an operator needs to fix a route or a registration.
    return response(FORWARD_ANSWERS.identity_mismatch, `${FORWARD_ANSWERS.identity_mismatch.body}: expected ${err.expected ?? 'an authorized ID'}, presented ${err.presentedId}`);
  }
  if (err instanceof Http1Error) {
    // Thrown while writing our request head: a field the next hop cannot carry (from an HTTP/2 caller).
    return response(FORWARD_ANSWERS.bad_request, `${FORWARD_ANSWERS.bad_request.body}: ${err.message}`);
  }
  const e = (err ?? {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  // The dialer's own credentials: no SVID yet, or the agent withdrew it
  // (thrown by the Workload API source through the credentials home), or
  // the home has nothing published (sidecar/tls/credentials.ts).
  if (code === 'workload.no_svid' || code.startsWith('tls.credentials_')) return response(FORWARD_ANSWERS.no_svid, `${FORWARD_ANSWERS.no_svid.body}: ${typeof e.message === 'string' ? e.message : code}`);
  if (code.startsWith('x509svid.') || code === 'tls.peer_handshake_rejected') {
    return response(FORWARD_ANSWERS.upstream_tls, `upstream TLS verification failed: ${typeof e.reason === 'string' ? e.reason : code}`);
  }
  if (code === 'ABORT_ERR') return response(FORWARD_ANSWERS.client_abort, FORWARD_ANSWERS.client_abort.body);
  if (RESET_CODES.has(code)) return response(FORWARD_ANSWERS.upstream_reset, `${FORWARD_ANSWERS.upstream_reset.body} (${code})`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || reasonForOpensslCode(code) !== 'handshake_failed') {
    return response(FORWARD_ANSWERS.upstream_tls, `${FORWARD_ANSWERS.upstream_tls.body}: ${code}`);
  }
  return response(FORWARD_ANSWERS.upstream_error, `${FORWARD_ANSWERS.upstream_error.body}: ${code || 'unknown'}`);
}
