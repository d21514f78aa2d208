import { TokenExchangeError } from './token-exchange-error.ts';
import type { TokenEndpointTransport } from './token-endpoint-transport.ts';

/** RFC 8693 §2.1 grant type and §3 token type identifiers. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
/** The transaction token type (draft-ietf-oauth-transaction-tokens, "Transaction Token Request"). */
export const TOKEN_TYPE_TXN = 'urn:ietf:params:oauth:token-type:txn_token';
/** draft-ietf-oauth-spiffe-client-auth: `client_assertion_type` of a JWT-SVID sent as client assertion. */
export const CLIENT_ASSERTION_TYPE_JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';

/** Largest token endpoint answer read. */
export const MAX_EXCHANGE_RESPONSE_BYTES = 64 * 1024;

/** One exchange to make. */
export interface ExchangeRequest {
  /** The token the app sent (never logged). */
  readonly subjectToken: string;
  /** RFC 8693 §2.1 `audience`: where the new token will be used. */
  readonly audience: string;
  /** Narrower scope to ask for, space-separated; '' asks for none. */
  readonly scope: string;
  /** Our JWT-SVID as `actor_token`, or '' for none. */
  readonly actorToken: string;
  /** Our JWT-SVID as `client_assertion` (the `jwt-svid` client authentication), or '' for none. */
  readonly clientAssertion: string;
  /** RFC 8693 §2.1 `requested_token_type`; default {@link TOKEN_TYPE_ACCESS_TOKEN}. */
  readonly requestedTokenType?: string | undefined;
}

/** A token the authorization server issued, with when it stops being usable. */
export interface IssuedToken {
  readonly token: string;
  /** From `expires_in` (RFC 8693 §2.2.1) or, failing that, the JWT's `exp`; undefined when neither says. */
  readonly expiresAtMs: number | undefined;
}

// RFC 6750 §2.1 b64token: what may follow "Bearer " in a header.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_CHARS = 16 * 1024;

/**
 * The RFC 8693 client: builds the §2.1 request (subject token typed as an
 * access token, `audience`, optional `scope`, optional `actor_token` typed
 * as a JWT, optional JWT-SVID client assertion), sends it with the transport's client authentication, and reads
 * the §2.2.1 answer or the §2.2.2 error. Refusals are typed: `invalid_grant`
 * (the subject token) is 'exchange.subject_refused', every other error
 * 'exchange.refused', anything unreadable 'exchange.unavailable'.
 */
export class TokenExchangeClient {
  readonly #transport: TokenEndpointTransport;
  readonly #now: () => number;

  constructor(transport: TokenEndpointTransport, now: () => number) {
    this.#transport = transport;
    this.#now = now;
  }

  /** Exchanges `r.subjectToken`; rejects with a TokenExchangeError. */
  async exchange(r: ExchangeRequest): Promise<IssuedToken> {
    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: r.subjectToken,
      subject_token_type: TOKEN_TYPE_ACCESS_TOKEN,
      requested_token_type: r.requestedTokenType ?? TOKEN_TYPE_ACCESS_TOKEN,
      audience: r.audience,
    });
    if (r.scope !== '') form.set('scope', r.scope);
    if (r.actorToken !== '') {
      form.set('actor_token', r.actorToken);
      form.set('actor_token_type', TOKEN_TYPE_JWT);
    }
    if (r.clientAssertion !== '') {
      // RFC 7521 §4.2 parameters, typed as the SPIFFE profile asks; the transport adds `client_id`.
      form.set('client_assertion_type', CLIENT_ASSERTION_TYPE_JWT_SPIFFE);
      form.set('client_assertion', r.clientAssertion);
    }
    const sentAt = this.#now();
    const reply = await this.#transport.post(form);
    return readReply(reply.status, reply.body, sentAt);
  }
}

/** Reads a token endpoint reply (exported for table tests). */
export function readReply(status: number, body: Buffer, sentAtMs: number): IssuedToken {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    doc = undefined;
  }
  const o = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  if (status !== 200) {
    const error = o !== undefined && typeof o['error'] === 'string' ? o['error'] : '';
    // RFC 6749 §5.2 says 400 (401 for invalid_client), but servers also
    // refuse with 403 (Keycloak's standard token exchange does): any 4xx
    // carrying an OAuth error is an answer, not an outage. 5xx and answers
    // without an error member are the server failing.
    if (status >= 400 && status < 500 && error !== '') {
      const shown = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error) ? error : 'unprintable';
      if (error === 'invalid_grant') throw new TokenExchangeError('exchange.subject_refused', 'exchange: the authorization server refused the subject token (invalid_grant)');
      throw new TokenExchangeError('exchange.refused', `exchange: the authorization server refused the exchange (${shown})`);
    }
    throw new TokenExchangeError('exchange.unavailable', `exchange: the token endpoint answered HTTP ${status}`);
  }
  if (o === undefined) throw new TokenExchangeError('exchange.unavailable', 'exchange: the token endpoint answer is not a JSON object');
  const token = o['access_token'];
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !B64TOKEN.test(token)) {
    throw new TokenExchangeError('exchange.unavailable', 'exchange: the answer has no usable access_token (RFC 8693 §2.2.1)');
  }
  if (typeof o['issued_token_type'] !== 'string' || o['issued_token_type'] === '') {
    throw new TokenExchangeError('exchange.unavailable', 'exchange: the answer has no issued_token_type (RFC 8693 §2.2.1)');
  }
  const type = o['token_type'];
  // §2.2.1: "Bearer" for a bearer token, "N_A" when it is not an access token; anything else (DPoP, MAC) cannot be sent as a bearer token.
  if (typeof type !== 'string' || !['bearer', 'n_a'].includes(type.toLowerCase())) {
    throw new TokenExchangeError('exchange.unavailable', 'exchange: the issued token is not a bearer token (token_type)');
  }
  const expiresIn = o['expires_in'];
  let expiresAtMs: number | undefined;
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0) expiresAtMs = sentAtMs + expiresIn * 1000;
  const exp = jwtExp(token);
  if (exp !== undefined) expiresAtMs = expiresAtMs === undefined ? exp : Math.min(expiresAtMs, exp);
  return { token, expiresAtMs };
}

/** The `exp` of a JWT-shaped token in ms, read without verification (only to bound caching). */
function jwtExp(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
