/**
 * The byte-level rules of SPIFFE-ID.md §2, shared by TrustDomain and SpiffeId
 * so neither has to import the other. Every function throws SpiffeIdError and
 * names the whole input in the message.
 */
import { Buffer } from 'node:buffer';
import { quoteUntrusted } from './quote-untrusted.ts';
import { SpiffeIdError, type SpiffeIdErrorCode } from './spiffe-id-error.ts';

/**
 * The only accepted scheme prefix, compared byte for byte as go-spiffe v2
 * spiffeid/id.go does: `SPIFFE://` is rejected although RFC 3986 §3.1 makes
 * schemes case-insensitive.
 */
export const SPIFFE_SCHEME_PREFIX = 'spiffe://';
/** SPIFFE-ID.md §2.3: implementations must handle IDs up to this many bytes; we refuse longer ones. */
export const MAX_ID_BYTES = 2048;
/** SPIFFE-ID.md §2.1: a trust domain name is at most this many bytes. */
export const MAX_TRUST_DOMAIN_BYTES = 255;

const TD_CHARS = new Uint8Array(128);
const PATH_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const lowerOrDigit = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  const punct = ch === '.' || ch === '-' || ch === '_';
  TD_CHARS[c] = lowerOrDigit || punct ? 1 : 0;
  PATH_CHARS[c] = lowerOrDigit || punct || (ch >= 'A' && ch <= 'Z') ? 1 : 0;
}

const RULES: Record<SpiffeIdErrorCode, string> = {
  'spiffeid.empty': 'a SPIFFE ID cannot be empty',
  'spiffeid.bad_scheme': 'the scheme must be exactly "spiffe://" (lowercase)',
  'spiffeid.trust_domain_missing': 'the trust domain is missing',
  'spiffeid.trust_domain_char':
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  'spiffeid.trust_domain_too_long': `a trust domain cannot be longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`,
  'spiffeid.too_long': `a SPIFFE ID cannot be longer than ${MAX_ID_BYTES} bytes`,
  'spiffeid.path_no_leading_slash': 'a path must start with a slash',
  'spiffeid.path_empty_segment': 'a path cannot contain empty segments',
  'spiffeid.path_dot_segment': 'a path cannot contain "." or ".." segments',
  'spiffeid.path_char': 'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  'spiffeid.path_trailing_slash': 'a path cannot end with a slash',
};

/** Builds the error for `code`, quoting the input the rule was checked against. */
export function idError(code: SpiffeIdErrorCode, input: string): SpiffeIdError {
  return new SpiffeIdError(code, `spiffeid: ${RULES[code]} (in ${quoteUntrusted(input)})`);
}

/** UTF-8 length; equal to `s.length` for the ASCII strings that can be valid. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function requireString(input: unknown): asserts input is string {
  if (typeof input !== 'string') throw new TypeError(`spiffeid: expected a string, got ${typeof input}`);
}

/**
 * Checks a bare trust domain name. Length comes before characters so an
 * oversized name is reported as such whatever it contains. `input` is what
 * the caller passed, for the message.
 */
export function checkTrustDomainName(name: string, input: string): void {
  if (name.length === 0) throw idError('spiffeid.trust_domain_missing', input);
  if (byteLength(name) > MAX_TRUST_DOMAIN_BYTES) throw idError('spiffeid.trust_domain_too_long', input);
  for (let i = 0; i < name.length; i++) {
    // Non-ASCII code units index past the table and read undefined: rejected.
    if (TD_CHARS[name.charCodeAt(i)] !== 1) throw idError('spiffeid.trust_domain_char', input);
  }
}

/**
 * Checks a path ('' or '/seg/seg'), reporting the leftmost broken rule, as
 * go-spiffe does: empty and dot segments are judged when their closing slash
 * (or the end) is reached, bad characters as soon as they are seen.
 */
export function checkPath(path: string, input: string): void {
  if (path.length === 0) return;
  if (path.charCodeAt(0) !== 0x2f) throw idError('spiffeid.path_no_leading_slash', input);
  let segStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const atEnd = i === path.length;
    const c = atEnd ? 0x2f : path.charCodeAt(i);
    if (c === 0x2f) {
      const len = i - segStart;
      if (len === 0) throw idError(atEnd ? 'spiffeid.path_trailing_slash' : 'spiffeid.path_empty_segment', input);
      if (isDotSegment(path, segStart, len)) throw idError('spiffeid.path_dot_segment', input);
      segStart = i + 1;
    } else if (PATH_CHARS[c] !== 1) {
      throw idError('spiffeid.path_char', input);
    }
  }
}

function isDotSegment(path: string, start: number, len: number): boolean {
  // '.' and '..' would be resolved away by RFC 3986 normalisation, letting two
  // spellings name one workload; the spec forbids them (SPIFFE-ID.md §2.2).
  if (len === 1) return path.charCodeAt(start) === 0x2e;
  if (len === 2) return path.charCodeAt(start) === 0x2e && path.charCodeAt(start + 1) === 0x2e;
  return false;
}

/**
 * Splits and validates a full SPIFFE ID into its trust domain name and path.
 * Order (go-spiffe v2 spiffeid/id.go, plus the SPIFFE-ID.md §2.1 and §2.3
 * lengths): empty, total length, scheme, trust domain (length, then
 * characters, then presence), path left to right.
 */
export function parseIdParts(input: unknown): { trustDomain: string; path: string } {
  requireString(input);
  if (input.length === 0) throw idError('spiffeid.empty', input);
  if (input.length > MAX_ID_BYTES || byteLength(input) > MAX_ID_BYTES) throw idError('spiffeid.too_long', input);
  if (!input.startsWith(SPIFFE_SCHEME_PREFIX)) throw idError('spiffeid.bad_scheme', input);
  const slash = input.indexOf('/', SPIFFE_SCHEME_PREFIX.length);
  const tdEnd = slash === -1 ? input.length : slash;
  const trustDomain = input.slice(SPIFFE_SCHEME_PREFIX.length, tdEnd);
  checkTrustDomainName(trustDomain, input);
  const path = input.slice(tdEnd);
  checkPath(path, input);
  return { trustDomain, path };
}

/** Validates a bare trust domain name or, when it contains ':/', a full ID; returns the name. */
export function parseTrustDomainName(input: unknown): string {
  requireString(input);
  // As TrustDomainFromString in go-spiffe v2 spiffeid/trustdomain.go: ':/'
  // means a full ID was given.
  if (input.includes(':/')) return parseIdParts(input).trustDomain;
  checkTrustDomainName(input, input);
  return input;
}
