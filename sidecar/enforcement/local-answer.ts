/**
 * Every answer the sidecar gives in place of the app when the enforcement
 * stage refuses a request: one closed set of reasons, each with its status,
 * body, extra headers and log level, decided here and nowhere else.
 */

/** Why a request was answered locally; a closed set, safe as a metric label and in access logs. */
export type AnswerReason =
  | 'bad_path'
  | 'invalid_token'
  | 'principal_required'
  | 'multiple_tokens'
  | 'token_too_large'
  | 'token_unavailable'
  | 'caller_not_listed'
  | 'no_matching_rule'
  | 'denied_by_rule'
  | 'upgrade_not_allowed';

/** Every {@link AnswerReason}, for pre-registering metric label values. */
export const ANSWER_REASONS: readonly AnswerReason[] = Object.freeze([
  'bad_path',
  'invalid_token',
  'principal_required',
  'multiple_tokens',
  'token_too_large',
  'token_unavailable',
  'caller_not_listed',
  'no_matching_rule',
  'denied_by_rule',
  'upgrade_not_allowed',
]);

/** A response the sidecar sends itself. */
export interface LocalAnswer {
  readonly reason: AnswerReason;
  readonly status: number;
  /** Short plain text for the client; never secrets, claim values or token text. */
  readonly body: string;
  /** Extra response headers (name, value, ...). */
  readonly headers: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * `WWW-Authenticate` per RFC 6750 §3: a request without credentials gets
 * the bare challenge (§3.1: no error code when the client did not try), a
 * bad token `invalid_token`, a malformed request `invalid_request`.
 */
const CHALLENGE = 'Bearer';
const INVALID_TOKEN = 'Bearer error="invalid_token"';
const INVALID_REQUEST = 'Bearer error="invalid_request"';

function answer(reason: AnswerReason, status: number, body: string, headers: readonly string[] = NONE): LocalAnswer {
  return Object.freeze({ reason, status, body, headers: Object.freeze([...headers]) });
}

/**
 * The inbound answers. Statuses: 400 for requests that cannot be judged as
 * sent, 401 when the user must (re)authenticate (RFC 9110 §15.5.2), 403 when
 * the caller is known and not allowed, 431 for an oversized credential
 * (RFC 6585 §5), 503 with `retry-after` when the token's authority cannot
 * be reached: the request is refused, never let through (fail closed).
 */
export const INBOUND_ANSWERS: Readonly<Record<AnswerReason, LocalAnswer>> = Object.freeze({
  bad_path: answer('bad_path', 400, 'bad request path'),
  invalid_token: answer('invalid_token', 401, 'invalid token', ['www-authenticate', INVALID_TOKEN]),
  principal_required: answer('principal_required', 401, 'this request needs an end-user token', ['www-authenticate', CHALLENGE]),
  multiple_tokens: answer('multiple_tokens', 400, 'bad request: more than one token presented', ['www-authenticate', INVALID_REQUEST]),
  token_too_large: answer('token_too_large', 431, 'token too large'),
  token_unavailable: answer('token_unavailable', 503, 'token cannot be verified now: its issuer is unreachable', ['retry-after', '5']),
  caller_not_listed: answer('caller_not_listed', 403, 'forbidden: caller is not allowed by the inbound policy'),
  no_matching_rule: answer('no_matching_rule', 403, 'forbidden: no inbound policy rule allows this request'),
  denied_by_rule: answer('denied_by_rule', 403, 'forbidden: denied by the inbound policy'),
  upgrade_not_allowed: answer('upgrade_not_allowed', 403, 'forbidden: WebSocket is not permitted on this listener (inbound.webSocket)'),
});
