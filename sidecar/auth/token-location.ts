import { quoteUntrusted } from '../spiffe/index.ts';
import type { AuthOptionsProblem } from './auth-options-error.ts';
import type { TokenOutcome } from './verified-token.ts';

/**
 * Where a request may carry a token: a header, with an optional scheme
 * prefix such as `Bearer ` (matched case-insensitively, RFC 6750 §2.1 and
 * RFC 9110 §11.1), or a cookie (RFC 6265 §4.2).
 */
export type TokenLocation = { readonly header: string; readonly prefix?: string } | { readonly cookie: string };

/** The default: `Authorization: Bearer <token>` (RFC 6750 §2.1). */
export const DEFAULT_TOKEN_LOCATIONS: readonly TokenLocation[] = Object.freeze([Object.freeze({ header: 'authorization', prefix: 'Bearer ' })]);

/** Largest number of locations one list may name. */
export const MAX_TOKEN_LOCATIONS = 16;

/** A validated location: header names lowercased, prefixes lowercased for comparison. */
export interface ResolvedLocation {
  readonly kind: 'header' | 'cookie';
  readonly name: string;
  /** Lowercased scheme prefix; '' for none and for cookies. */
  readonly prefix: string;
  /** The prefix without trailing spaces ('bearer'): a value equal to it carries an empty token. */
  readonly scheme: string;
  /** Identity for de-duplication across providers. */
  readonly id: string;
}

// RFC 9110 §5.6.2 token characters; header and cookie names must be tokens.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PREFIX = /^[\x21-\x7e][\x20-\x7e]{0,31}$/;

/** Checks a location list; returns one problem per broken rule, paths under `path`. */
export function tokenLocationProblems(list: readonly TokenLocation[], path: string): AuthOptionsProblem[] {
  const problems: AuthOptionsProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, code: 'auth.bad_location', message });
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_TOKEN_LOCATIONS) {
    add(path, `must be a list of 1 to ${MAX_TOKEN_LOCATIONS} locations`);
    return problems;
  }
  const seen = new Set<string>();
  list.forEach((loc, i) => {
    const at = `${path}[${i}]`;
    const r = resolveOne(loc);
    if (typeof r === 'string') return add(at, r);
    if (seen.has(r.id)) add(at, 'repeats an earlier location');
    seen.add(r.id);
  });
  return problems;
}

/** Resolves a list already accepted by {@link tokenLocationProblems}. */
export function resolveTokenLocations(list: readonly TokenLocation[]): ResolvedLocation[] {
  return list.map((loc) => {
    const r = resolveOne(loc);
    if (typeof r === 'string') throw new TypeError(`auth: ${r}`);
    return r;
  });
}

function resolveOne(loc: TokenLocation): ResolvedLocation | string {
  if (typeof loc !== 'object' || loc === null) return 'must be { header, prefix? } or { cookie }';
  const isHeader = Object.hasOwn(loc, 'header');
  const isCookie = Object.hasOwn(loc, 'cookie');
  if (isHeader === isCookie) return 'must name exactly one of "header" or "cookie"';
  if ('cookie' in loc) {
    if (typeof loc.cookie !== 'string' || !TOKEN.test(loc.cookie)) return `cookie name ${show(loc.cookie)} is not a valid cookie name`;
    return Object.freeze({ kind: 'cookie', name: loc.cookie, prefix: '', scheme: '', id: `cookie:${loc.cookie}` });
  }
  if (typeof loc.header !== 'string' || !TOKEN.test(loc.header)) return `header name ${show(loc.header)} is not a valid header name`;
  const name = loc.header.toLowerCase();
  if (name === 'cookie') return 'use { cookie: NAME } to read a token from a cookie';
  const prefix = loc.prefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !PREFIX.test(prefix))) return `prefix ${show(prefix)} must be 1-32 printable ASCII characters`;
  const lower = prefix.toLowerCase();
  return Object.freeze({ kind: 'header', name, prefix: lower, scheme: lower.trimEnd(), id: `header:${name}:${lower}` });
}

function show(v: unknown): string {
  return typeof v === 'string' ? quoteUntrusted(v, 64) : String(v);
}

/** What {@link TokenExtractor.extract} found: a token and the index of its location, or an outcome to answer with. */
export type Extraction = { readonly kind: 'token'; readonly token: string; readonly location: number } | TokenOutcome;

const NONE: TokenOutcome = Object.freeze({ kind: 'none' });

/**
 * Finds the one token of a request in a fixed set of locations, reading
 * node's raw header array (name, value, name, value, ...; names in any case).
 * Stateless and allocation-light: one pass over the headers.
 */
export class TokenExtractor {
  readonly #locations: readonly ResolvedLocation[];
  /** For each location, the index of the first location with the same header name (duplicate detection). */
  readonly #group: readonly number[];
  readonly #hasCookies: boolean;
  readonly #maxTokenBytes: number;
  // The extract() call in progress: the token found, the index of its
  // location (-1 before one), and bit j set once a header of location j's
  // name was seen (only for the first location of each name).
  #token: string | undefined = undefined;
  #location = -1;
  #seen = 0;

  constructor(locations: readonly ResolvedLocation[], maxTokenBytes: number) {
    if (locations.length > 30) throw new TypeError('auth: too many token locations');
    this.#locations = locations;
    this.#group = locations.map((l) => locations.findIndex((o) => o.kind === l.kind && o.name === l.name));
    this.#hasCookies = locations.some((l) => l.kind === 'cookie');
    this.#maxTokenBytes = maxTokenBytes;
  }

  /** The configured locations, in order; {@link Extraction} indexes into this list. */
  get locations(): readonly ResolvedLocation[] {
    return this.#locations;
  }

  /**
   * Finds the request's token. Two headers of a configured name (two
   * Authorization headers), the same cookie twice, or tokens in two
   * locations is `multiple_tokens`: which one counts would otherwise depend
   * on who reads the request (RFC 6750 §2 allows one method per request).
   */
  extract(raw: readonly string[]): Extraction {
    // extract() is synchronous and never re-entered, so the scan state lives
    // on the extractor: a request allocates nothing here but its outcome.
    this.#token = undefined;
    this.#location = -1;
    this.#seen = 0;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      const isCookie = this.#hasCookies && name.length === 6 && equalsLowerAscii(name, 'cookie');
      const refused = isCookie ? this.#scanCookies(value) : this.#scanHeader(name, value);
      if (refused !== undefined) return refused;
    }
    const token = this.#token;
    this.#token = undefined;
    return token === undefined ? NONE : { kind: 'token', token, location: this.#location };
  }

  /** Takes the configured cookies of one Cookie header; an outcome ends the extraction. */
  #scanCookies(value: string): TokenOutcome | undefined {
    let at = 0;
    while (at < value.length) {
      const semi = value.indexOf(';', at);
      const end = semi < 0 ? value.length : semi;
      const j = this.#cookieAt(value, at, end);
      if (j >= 0) {
        const cookie = cookieValue(value, at, end);
        if (cookie.length > 0) {
          if (this.#token !== undefined) return multiple('a token appears in more than one place');
          if (cookie.length > this.#maxTokenBytes) return tooLarge(cookie.length, this.#maxTokenBytes);
          this.#token = cookie;
          this.#location = j;
        }
      }
      at = end + 1;
    }
    return undefined;
  }

  /** Takes one header when a header location names it; an outcome ends the extraction. */
  #scanHeader(name: string, value: string): TokenOutcome | undefined {
    for (let j = 0; j < this.#locations.length; j++) {
      const loc = this.#locations[j]!;
      if (loc.kind !== 'header' || name.length !== loc.name.length || !equalsLowerAscii(name, loc.name)) continue;
      const group = this.#group[j]!;
      if (group === j) {
        if ((this.#seen & (1 << j)) !== 0) return multiple(`more than one ${loc.name} header`);
        this.#seen |= 1 << j;
      }
      if (!startsWithLowerAscii(value, loc.prefix)) {
        // A bare "Bearer" (node trims the space after it) names the scheme with no token.
        if (loc.scheme !== '' && equalsLowerAscii(value, loc.scheme)) return EMPTY_TOKEN;
        continue;
      }
      let start = loc.prefix.length;
      while (start < value.length && value.charCodeAt(start) === 0x20) start++;
      if (this.#token !== undefined) return multiple('a token appears in more than one place');
      const length = value.length - start;
      if (length === 0) return EMPTY_TOKEN;
      if (length > this.#maxTokenBytes) return tooLarge(length, this.#maxTokenBytes);
      this.#token = start === 0 ? value : value.slice(start);
      this.#location = j;
      return undefined;
    }
    return undefined;
  }

  /**
   * A copy of `raw` without the credentials this extractor reads: headers
   * whose value carries a configured prefix (all values of a header
   * configured without prefix), and the configured cookies (other cookies
   * stay). For the enforcement stage, so the app never sees the token.
   */
  strip(raw: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (this.#hasCookies && equalsLowerAscii(name, 'cookie')) {
        const kept = this.#stripCookies(value);
        if (kept !== '') out.push(name, kept);
        continue;
      }
      if (!this.#carriesToken(name, value)) out.push(name, value);
    }
    return out;
  }

  /** True when header `name: value` is a configured token location (a loop, not a closure per header: this runs on every request). */
  #carriesToken(name: string, value: string): boolean {
    const locations = this.#locations;
    for (let i = 0; i < locations.length; i++) {
      const l = locations[i]!;
      if (l.kind === 'header' && equalsLowerAscii(name, l.name) && (startsWithLowerAscii(value, l.prefix) || (l.scheme !== '' && equalsLowerAscii(value, l.scheme)))) return true;
    }
    return false;
  }

  #stripCookies(value: string): string {
    const kept: string[] = [];
    let at = 0;
    while (at < value.length) {
      const semi = value.indexOf(';', at);
      const end = semi < 0 ? value.length : semi;
      if (this.#cookieAt(value, at, end) < 0) {
        const pair = value.slice(at, end).trim();
        if (pair !== '') kept.push(pair);
      }
      at = end + 1;
    }
    return kept.join('; ');
  }

  /** The index of the cookie location named by the pair value[start, end), or -1. */
  #cookieAt(value: string, start: number, end: number): number {
    while (start < end && value.charCodeAt(start) === 0x20) start++;
    const eq = value.indexOf('=', start);
    if (eq < 0 || eq > end) return -1;
    let nameEnd = eq;
    while (nameEnd > start && value.charCodeAt(nameEnd - 1) === 0x20) nameEnd--;
    for (let j = 0; j < this.#locations.length; j++) {
      const loc = this.#locations[j]!;
      // Cookie names are case-sensitive (RFC 6265 §5.4 compares them exactly).
      if (loc.kind === 'cookie' && nameEnd - start === loc.name.length && value.startsWith(loc.name, start)) return j;
    }
    return -1;
  }
}

const EMPTY_TOKEN: TokenOutcome = Object.freeze({ kind: 'invalid', reason: 'malformed', provider: '', detail: 'the credentials name a scheme but carry no token' });

function multiple(detail: string): TokenOutcome {
  return { kind: 'bad_request', reason: 'multiple_tokens', detail };
}

function tooLarge(length: number, max: number): TokenOutcome {
  return { kind: 'bad_request', reason: 'token_too_large', detail: `token of ${length} bytes exceeds ${max}` };
}

/** The cookie's value in value[start, end): after '=', spaces trimmed, one pair of DQUOTEs removed. */
function cookieValue(value: string, start: number, end: number): string {
  let s = value.indexOf('=', start) + 1;
  let e = end;
  while (s < e && value.charCodeAt(s) === 0x20) s++;
  while (e > s && value.charCodeAt(e - 1) === 0x20) e--;
  if (e - s >= 2 && value.charCodeAt(s) === 0x22 && value.charCodeAt(e - 1) === 0x22) {
    s++;
    e--;
  }
  return value.slice(s, e);
}

/** True when `s` equals `lower` (already lowercase ASCII) ignoring ASCII case. */
function equalsLowerAscii(s: string, lower: string): boolean {
  return s.length === lower.length && startsWithLowerAscii(s, lower);
}

/** True when `s` starts with `lower` (already lowercase ASCII) ignoring ASCII case. */
function startsWithLowerAscii(s: string, lower: string): boolean {
  if (s.length < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A copy of a raw header array without the credentials carried in
 * `locations` (see {@link TokenExtractor.strip}). Throws TypeError for an
 * invalid location list; {@link TokenAuthenticator.withoutCredentials} is
 * the same for an authenticator's own locations.
 */
export function withoutTokenLocations(headers: readonly string[], locations: readonly TokenLocation[] = DEFAULT_TOKEN_LOCATIONS): string[] {
  const problems = tokenLocationProblems(locations, 'locations');
  if (problems.length > 0) throw new TypeError(`auth: ${problems[0]!.path}: ${problems[0]!.message}`);
  return new TokenExtractor(resolveTokenLocations(locations), Number.MAX_SAFE_INTEGER).strip(headers);
}
