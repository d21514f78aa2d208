/**
 * Every answer the sidecar gives in place of the app when the enforcement
 * stage refuses a request: one closed set of reasons, each with its status,
 * body, extra headers, connection close and log level, decided here and
 * nowhere else. With sidecar/forward/forward-answer.ts (protocol refusals,
 * limits and upstream failures, both directions) it is the inbound's
 * local-answer map; the rows have the shape forward's Exchange.answer takes.
 */
import type { TokenInvalidReason } from '../auth/index.ts';

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
  /** The connection (HTTP/1.1) or stream (HTTP/2) ends after the answer; never for these, whose request was read whole. */
  readonly close: boolean;
  /** Level of the 'request refused' log line: refusals are routine under attack, so debug (counted, and in the access log). */
  readonly level: 'debug' | 'info' | 'warn' | 'error';
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
  return Object.freeze({ reason, status, body, headers: Object.freeze([...headers]), close: false, level: 'debug' as const });
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

/** Words for each refusal reason of a token, for the client; never the token, never claim values. */
const INVALID_TOKEN_WORDS: Readonly<Record<TokenInvalidReason, string>> = {
  malformed: 'the token is not a well-formed JWT or opaque token',
  unknown_issuer: 'no configured issuer accepts this token',
  bad_algorithm: 'the token is signed with an algorithm that is not accepted',
  bad_type: 'the token is not an access token (typ at+jwt required)',
  unknown_key: 'the token is signed with an unknown key',
  bad_signature: 'the token signature does not verify',
  expired: 'the token has expired',
  not_yet_valid: 'the token is not valid yet',
  missing_claim: 'the token lacks a required claim',
  wrong_audience: 'the token is not meant for this service',
  inactive: 'the token is not active',
  cert_mismatch: 'the token is bound to another client certificate',
};

/**
 * The 401 for a refused token, naming why in the body and in
 * `error_description` (RFC 6750 §3); one shared object per reason, so a
 * flood of bad tokens allocates nothing.
 */
export const INVALID_TOKEN_ANSWERS: Readonly<Record<TokenInvalidReason, LocalAnswer>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(INVALID_TOKEN_WORDS) as TokenInvalidReason[]).map((r) => [
      r,
      answer('invalid_token', 401, `invalid token: ${INVALID_TOKEN_WORDS[r]}`, ['www-authenticate', `Bearer error="invalid_token", error_description="${INVALID_TOKEN_WORDS[r]}"`]),
    ]),
  ) as Record<TokenInvalidReason, LocalAnswer>,
);
