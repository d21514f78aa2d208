/**
 * Every answer the outbound proxy gives the app itself: its route refusals
 * (transparent-route.ts, the listener's own checks, egress) and the token
 * step's. One closed set of reasons, each with its status, default body,
 * extra headers, connection close and log level, decided here and nowhere
 * else. With sidecar/forward/forward-answer.ts (protocol refusals, limits
 * and upstream failures, both directions) it is the outbound's local-answer
 * map; the rows have the shape forward's Exchange.answer takes.
 */

/** Why an outbound request was answered by the sidecar; safe as a metric label. */
export type OutboundAnswerReason =
  // Routing: where the app's request would go.
  | 'unknown_host'
  | 'no_host'
  | 'bad_host'
  | 'ip_literal'
  | 'port_not_allowed'
  | 'absolute_form'
  | 'upgrade_not_allowed'
  | 'egress_denied'
  // The token step.
  | 'multiple_tokens'
  | 'subject_token_refused'
  | 'token_exchange_refused'
  | 'token_exchange_unavailable'
  | 'token_exchange_busy'
  | 'jwt_svid_unavailable';

/** Every {@link OutboundAnswerReason}. */
export const OUTBOUND_ANSWER_REASONS: readonly OutboundAnswerReason[] = Object.freeze([
  'unknown_host',
  'no_host',
  'bad_host',
  'ip_literal',
  'port_not_allowed',
  'absolute_form',
  'upgrade_not_allowed',
  'egress_denied',
  'multiple_tokens',
  'subject_token_refused',
  'token_exchange_refused',
  'token_exchange_unavailable',
  'token_exchange_busy',
  'jwt_svid_unavailable',
]);

/** A response the outbound proxy sends the app itself. */
export interface OutboundAnswer {
  readonly reason: OutboundAnswerReason;
  readonly status: number;
  /** Short plain text, the default when the caller names no detail; never token text, secrets or the authorization server's own words. */
  readonly body: string;
  /** Extra response headers (name, value, ...). */
  readonly headers: readonly string[];
  /** The connection (HTTP/1.1) or stream (HTTP/2) ends after the answer; never for these, whose request was read whole. */
  readonly close: boolean;
  /** Level of the log line: the app's own mistakes and refusals are routine, so debug (the access log has them). */
  readonly level: 'debug' | 'info' | 'warn' | 'error';
}

function answer(reason: OutboundAnswerReason, status: number, body: string, headers: readonly string[] = []): OutboundAnswer {
  return Object.freeze({ reason, status, body, headers: Object.freeze([...headers]), close: false, level: 'debug' as const });
}

const RETRY = ['retry-after', '5'] as const;

/**
 * The outbound answers. Routing: 404 for a host that is not a configured
 * upstream (transparent mode off), 400 for a Host or request-target that
 * cannot be routed as sent, 403 for a destination or protocol this sidecar
 * is configured not to reach. Token step: 401 only when the authorization server
 * refused the app's own token (RFC 8693 §2.2.2 with RFC 6749 §5.2
 * `invalid_grant`): the app must get a new one (RFC 6750 §3.1
 * `invalid_token`). Everything else that keeps the sidecar from obtaining
 * the upstream's token is 503 with `retry-after`: the request is not sent,
 * and never sent with the app's token instead (fail closed).
 */
export const OUTBOUND_ANSWERS: Readonly<Record<OutboundAnswerReason, OutboundAnswer>> = Object.freeze({
  unknown_host: answer('unknown_host', 404, 'not a configured upstream of this sidecar'),
  no_host: answer('no_host', 400, 'no Host header: transparent mode routes by the Host / :authority the app addressed'),
  bad_host: answer('bad_host', 400, 'not a valid host[:port]'),
  ip_literal: answer('ip_literal', 403, 'an IP address names no workload, so there is no server identity to expect from it'),
  port_not_allowed: answer('port_not_allowed', 403, 'port is not forwarded by this sidecar (outbound.transparent.ports)'),
  absolute_form: answer('absolute_form', 400, 'only origin-form targets ("/path") are forwarded, this sidecar is not a forward proxy'),
  upgrade_not_allowed: answer('upgrade_not_allowed', 403, 'WebSocket is not permitted to this destination'),
  egress_denied: answer('egress_denied', 403, 'egress is not allowed: no outbound.egress.allow entry matches its host or address and port'),
  multiple_tokens: answer('multiple_tokens', 400, 'bad request: more than one Authorization header', ['www-authenticate', 'Bearer error="invalid_request"']),
  subject_token_refused: answer('subject_token_refused', 401, 'the authorization server refused the token for this call', ['www-authenticate', 'Bearer error="invalid_token"']),
  token_exchange_refused: answer('token_exchange_refused', 503, 'the authorization server refused to issue a token for this upstream', RETRY),
  token_exchange_unavailable: answer('token_exchange_unavailable', 503, 'no token for this upstream: the authorization server is unreachable', RETRY),
  token_exchange_busy: answer('token_exchange_busy', 503, 'no token for this upstream: too many token exchanges in flight', RETRY),
  jwt_svid_unavailable: answer('jwt_svid_unavailable', 503, 'no JWT-SVID for this upstream: the Workload API did not issue one', RETRY),
});
