/**
 * Every answer the outbound proxy gives the app itself because of the
 * token step: one closed set of reasons, each with its status, body and
 * extra headers, decided here and nowhere else.
 */

/** Why an outbound request was answered by the sidecar's token step; safe as a metric label. */
export type OutboundAnswerReason =
  | 'multiple_tokens'
  | 'subject_token_refused'
  | 'token_exchange_refused'
  | 'token_exchange_unavailable'
  | 'token_exchange_busy'
  | 'jwt_svid_unavailable';

/** Every {@link OutboundAnswerReason}. */
export const OUTBOUND_ANSWER_REASONS: readonly OutboundAnswerReason[] = Object.freeze([
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
  /** Short plain text; never token text, secrets or the authorization server's own words. */
  readonly body: string;
  /** Extra response headers (name, value, ...). */
  readonly headers: readonly string[];
}

function answer(reason: OutboundAnswerReason, status: number, body: string, headers: readonly string[] = []): OutboundAnswer {
  return Object.freeze({ reason, status, body, headers: Object.freeze([...headers]) });
}

const RETRY = ['retry-after', '5'] as const;

/**
 * The outbound token answers. 401 only when the authorization server
 * refused the app's own token (RFC 8693 §2.2.2 with RFC 6749 §5.2
 * `invalid_grant`): the app must get a new one (RFC 6750 §3.1
 * `invalid_token`). Everything else that keeps the sidecar from obtaining
 * the upstream's token is 503 with `retry-after`: the request is not sent,
 * and never sent with the app's token instead (fail closed).
 */
export const OUTBOUND_ANSWERS: Readonly<Record<OutboundAnswerReason, OutboundAnswer>> = Object.freeze({
  multiple_tokens: answer('multiple_tokens', 400, 'bad request: more than one Authorization header', ['www-authenticate', 'Bearer error="invalid_request"']),
  subject_token_refused: answer('subject_token_refused', 401, 'the authorization server refused the token for this call', ['www-authenticate', 'Bearer error="invalid_token"']),
  token_exchange_refused: answer('token_exchange_refused', 503, 'the authorization server refused to issue a token for this upstream', RETRY),
  token_exchange_unavailable: answer('token_exchange_unavailable', 503, 'no token for this upstream: the authorization server is unreachable', RETRY),
  token_exchange_busy: answer('token_exchange_busy', 503, 'no token for this upstream: too many token exchanges in flight', RETRY),
  jwt_svid_unavailable: answer('jwt_svid_unavailable', 503, 'no JWT-SVID for this upstream: the Workload API did not issue one', RETRY),
});
