import { HeaderError } from './header-error.ts';
import { headerNameProblem } from './header-name.ts';

/**
 * The verified end user, as the identity headers need it. Built by the
 * enforcement stage from a token that passed every check; never from
 * request headers.
 */
export interface UserIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Default names of the headers that carry the verified user to the app. */
export const DEFAULT_USER_HEADERS = Object.freeze({
  subject: 'x-auth-subject',
  issuer: 'x-auth-issuer',
  clientId: 'x-auth-client-id',
  scopes: 'x-auth-scopes',
  claims: 'x-auth-claims',
});

/** One configured claim → header mapping. */
export interface ClaimHeaderOptions {
  /** The claim's path: one segment per nesting level, so keys containing dots are unambiguous. */
  readonly claim: readonly string[];
  readonly header: string;
}

/** Header names for the user; each defaults to {@link DEFAULT_USER_HEADERS}. */
export interface UserHeaderOptions {
  readonly subject?: string | undefined;
  readonly issuer?: string | undefined;
  readonly clientId?: string | undefined;
  readonly scopes?: string | undefined;
  readonly claims?: string | undefined;
  readonly claimHeaders?: readonly ClaimHeaderOptions[] | undefined;
}

/**
 * Largest `x-auth-claims` value sent (base64url of the JSON claim set).
 * Beyond it the header is left out rather than risk the app's header limit
 * (commonly 8 KiB for the whole head) turning every request into a 431.
 */
export const MAX_CLAIMS_HEADER_BYTES = 4096;

/** The validated user header configuration: names to set, and every name to strip. */
export class UserHeaders {
  readonly subject: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string;
  readonly claims: string;
  readonly claimHeaders: readonly ClaimHeaderOptions[];
  /** Configured names plus the defaults (a renamed header must not let the default spelling through). */
  readonly names: readonly string[];

  /** Throws HeaderError 'headers.invalid_name' naming every bad or duplicate name. */
  constructor(o: UserHeaderOptions = {}) {
    this.subject = o.subject ?? DEFAULT_USER_HEADERS.subject;
    this.issuer = o.issuer ?? DEFAULT_USER_HEADERS.issuer;
    this.clientId = o.clientId ?? DEFAULT_USER_HEADERS.clientId;
    this.scopes = o.scopes ?? DEFAULT_USER_HEADERS.scopes;
    this.claims = o.claims ?? DEFAULT_USER_HEADERS.claims;
    this.claimHeaders = Object.freeze((o.claimHeaders ?? []).map((c) => Object.freeze({ claim: Object.freeze([...c.claim]), header: c.header })));
    const problems: string[] = [];
    const set: [string, string][] = [
      ['subject', this.subject],
      ['issuer', this.issuer],
      ['clientId', this.clientId],
      ['scopes', this.scopes],
      ['claims', this.claims],
      ...this.claimHeaders.map((c, i) => [`claimHeaders[${i}]`, c.header] as [string, string]),
    ];
    const seen = new Map<string, string>();
    for (const [key, name] of set) {
      const p = headerNameProblem(name);
      if (p !== undefined) problems.push(`${key} ${JSON.stringify(name)}: ${p}`);
      const first = seen.get(name);
      if (first !== undefined) problems.push(`${key} ${JSON.stringify(name)} is already used by ${first}`);
      else seen.set(name, key);
    }
    this.claimHeaders.forEach((c, i) => {
      if (c.claim.length === 0 || c.claim.some((s) => s === '')) problems.push(`claimHeaders[${i}].claim: needs one or more non-empty path segments`);
    });
    if (problems.length > 0) throw new HeaderError('headers.invalid_name', `headers: invalid user header configuration: ${problems.join('; ')}`);
    this.names = Object.freeze([...new Set([...seen.keys(), ...Object.values(DEFAULT_USER_HEADERS)])]);
    Object.freeze(this);
  }

  /** Appends the headers for `user` to `out` (name, value, ...); values that cannot be sent safely are left out. */
  append(out: string[], user: UserIdentity): void {
    if (user.subject !== '' && isHeaderSafe(user.subject)) out.push(this.subject, user.subject);
    if (isHeaderSafe(user.issuer)) out.push(this.issuer, user.issuer);
    if (user.clientId !== '' && isHeaderSafe(user.clientId)) out.push(this.clientId, user.clientId);
    if (user.scopes.length > 0) {
      const s = user.scopes.join(' ');
      if (isHeaderSafe(s)) out.push(this.scopes, s);
    }
    const claims = encodedClaims(user.claims);
    if (claims.length <= MAX_CLAIMS_HEADER_BYTES) out.push(this.claims, claims);
    for (const c of this.claimHeaders) {
      const v = claimHeaderValue(user.claims, c.claim);
      if (v !== undefined) out.push(c.header, v);
    }
  }
}

/**
 * The claims header value, computed once per claim set: a cached token
 * hands the same frozen claims object to every request it authorizes, so
 * its JSON and base64url are not rebuilt per request.
 */
const encoded = new WeakMap<object, string>();
function encodedClaims(claims: Readonly<Record<string, unknown>>): string {
  let v = encoded.get(claims);
  if (v === undefined) {
    v = Buffer.from(JSON.stringify(claims)).toString('base64url');
    encoded.set(claims, v);
  }
  return v;
}

/** Visible ASCII, space and tab only (RFC 9110 §5.5 without obs-text): nothing a parser could read differently. */
function isHeaderSafe(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return false;
  }
  return s.length > 0 && s.charCodeAt(0) !== 0x20 && s.charCodeAt(s.length - 1) !== 0x20;
}

/**
 * The header value for the claim at `path`, or undefined when absent.
 * A header-safe string goes as it is; numbers and booleans as their JSON
 * text; arrays, objects and strings with other characters as JSON with
 * non-ASCII escaped, so the value is lossless and has one reading.
 */
export function claimHeaderValue(claims: Readonly<Record<string, unknown>>, path: readonly string[]): string | undefined {
  let v: unknown = claims;
  for (const seg of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' && isHeaderSafe(v)) return v;
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
