import { ClaimPath } from './claim-path.ts';
import { MATCH, NEEDS_PRINCIPAL, NO_MATCH, type MatchOutcome } from './match-outcome.ts';
import { normalizePath } from './normalize-path.ts';
import type { PolicyPrincipal } from './policy-request.ts';

const SLASH = 0x2f;

const LITERAL = 0;
const ONE = 1; // '*': exactly one segment
const REST = 2; // '**' (last only): the path so far, and anything below it
const VARIABLE = 3; // '{claims.x}': one segment equal to the claim

interface Segment {
  readonly kind: number;
  readonly text: string;
  readonly claim: ClaimPath | undefined;
}

/** Result of {@link PathTemplate.parse}. */
export type ParsedPathTemplate = { readonly ok: true; readonly template: PathTemplate } | { readonly ok: false; readonly problem: string };

const VARIABLE_SYNTAX = 'variables are written {claims.<claim>}, e.g. {claims.customer_id} or {claims["https://example.com/tenant"]}';

/**
 * A path pattern whose segments may be bound to the end user's claims, for
 * object-level authorization (OWASP API1:2023): `/customers/{claims.customer_id}/accounts/*`
 * admits a user only to their own customer's accounts.
 *
 * Syntax, segment by segment (the template is a normalised path otherwise):
 * - a literal segment matches itself, case-sensitively;
 * - `*` matches exactly one non-empty segment;
 * - `**`, only as the last segment, matches the path up to it and anything
 *   below (`/a/**` matches `/a`, `/a/`, `/a/b/c`, not `/ab`);
 * - `{claims.<claim path>}` (see ClaimPath) matches exactly one whole
 *   segment whose percent-decoded value equals the claim: a string as is, a
 *   number in its canonical JavaScript form (`42`, `1.5`). A missing claim,
 *   a list, an object, a boolean, or an empty string never matches, and
 *   nothing matches without a principal.
 * - A trailing '/' is significant, as it is in normalised paths.
 * Anything else (a variable sharing a segment with text, `*` inside a
 * segment, `**` before the end, dot segments, `//`) is refused at parse time.
 *
 * Templates match the normalised path (normalize-path.ts), where a segment
 * is already unambiguous: `%2F` and `%5C` are refused before matching,
 * dot segments (also encoded) are resolved, and unreserved characters are
 * decoded. So `/customers/42%2F..%2F43/...` never reaches a template, and
 * `/customers/42/../43/...` is matched as `/customers/43/...`.
 */
export class PathTemplate {
  /** The canonical spelling, as Policy.describe shows it. */
  readonly text: string;
  /** True when a segment is bound to a claim: the template needs a principal. */
  readonly usesClaims: boolean;
  readonly #segments: readonly Segment[];
  readonly #trailingSlash: boolean;

  private constructor(segments: readonly Segment[], trailingSlash: boolean) {
    this.#segments = segments;
    this.#trailingSlash = trailingSlash;
    this.usesClaims = segments.some((s) => s.kind === VARIABLE);
    const body = segments.map((s) => '/' + s.text).join('');
    this.text = body === '' ? '/' : body + (trailingSlash ? '/' : '');
    Object.freeze(this);
  }

  /** Parses and validates a template; never throws. */
  static parse(text: string): ParsedPathTemplate {
    if (!text.startsWith('/')) return fail('must start with "/"');
    const segments: Segment[] = [];
    let trailing = false;
    let i = 1;
    for (;;) {
      if (i === text.length) {
        trailing = true;
        break;
      }
      let end: number;
      if (text[i] === '{') {
        const close = variableEnd(text, i);
        if (close < 0) return fail(`unclosed "{" at character ${i + 1}`);
        end = close + 1;
        if (end < text.length && text[end] !== '/') return fail('a variable must be a whole segment; nothing may follow it before the next "/"');
        const v = readVariable(text.slice(i + 1, close));
        if (typeof v === 'string') return fail(v);
        segments.push(v);
      } else {
        const slash = text.indexOf('/', i);
        end = slash < 0 ? text.length : slash;
        const seg = text.slice(i, end);
        const s = readSegment(seg);
        if (typeof s === 'string') return fail(s);
        segments.push(s);
      }
      if (end === text.length) break;
      i = end + 1;
    }
    const restAt = segments.findIndex((s) => s.kind === REST);
    if (restAt >= 0 && (restAt !== segments.length - 1 || trailing)) {
      return fail('"**" may only be the last segment (it matches everything below)');
    }
    // Literal segments must already be in normal form, or the template could never match.
    const sample = '/' + segments.map((s) => (s.kind === LITERAL ? s.text : 'x')).join('/') + (trailing && segments.length > 0 ? '/' : '');
    const n = normalizePath(sample);
    if (!n.ok) return fail(`can never match: requests with such paths are refused (${n.reason})`);
    if (n.path !== sample) return fail('literal segments are not in normal form (dot segments, "//", or percent-encoded unreserved characters), so it could never match');
    return { ok: true, template: new PathTemplate(segments, trailing) };
  }

  /**
   * Matches a normalised path. Without a principal, a template with
   * variables returns NEEDS_PRINCIPAL when everything but the variables
   * matches. Allocates nothing unless a bound segment is percent-encoded.
   */
  match(path: string, principal: PolicyPrincipal | undefined): MatchOutcome {
    const n = path.length;
    let pos = 0;
    let needs = false;
    const segments = this.#segments;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.kind === REST) return needs ? NEEDS_PRINCIPAL : MATCH;
      if (pos >= n || path.charCodeAt(pos) !== SLASH) return NO_MATCH;
      const start = pos + 1;
      let end = path.indexOf('/', start);
      if (end < 0) end = n;
      if (seg.kind === LITERAL) {
        if (end - start !== seg.text.length || !path.startsWith(seg.text, start)) return NO_MATCH;
      } else if (end === start) {
        return NO_MATCH;
      } else if (seg.kind === VARIABLE) {
        if (principal === undefined) needs = true;
        else if (!segmentEqualsClaim(path, start, end, seg.claim!.read(principal.claims))) return NO_MATCH;
      }
      pos = end;
    }
    const done = this.#trailingSlash ? pos === n - 1 && path.charCodeAt(pos) === SLASH : pos === n;
    if (!done) return NO_MATCH;
    return needs ? NEEDS_PRINCIPAL : MATCH;
  }
}

function fail(problem: string): ParsedPathTemplate {
  return { ok: false, problem };
}

function readSegment(seg: string): Segment | string {
  if (seg === '') return 'empty segment ("//"): never in a normalised path';
  if (seg === '*') return { kind: ONE, text: '*', claim: undefined };
  if (seg === '**') return { kind: REST, text: '**', claim: undefined };
  if (seg.includes('*')) return `"*" and "**" must be a whole segment (in ${JSON.stringify(seg)})`;
  if (seg.includes('{')) return `a variable must be a whole segment (in ${JSON.stringify(seg)})`;
  if (seg.includes('}')) return `unbalanced "}" (in ${JSON.stringify(seg)})`;
  if (seg.includes('?') || seg.includes('#')) return 'templates match the path only; remove the query or fragment';
  return { kind: LITERAL, text: seg, claim: undefined };
}

function readVariable(inner: string): Segment | string {
  let rest: string;
  if (inner.startsWith('claims.')) rest = inner.slice('claims.'.length);
  else if (inner.startsWith('claims[')) rest = inner.slice('claims'.length);
  else return `{${inner}}: ${VARIABLE_SYNTAX}`;
  const p = ClaimPath.parse(rest);
  if (!p.ok) return `{${inner}}: ${p.problem}`;
  if (p.path.text === 'scope') return '{claims.scope}: "scope" is a list of scopes and never equals one segment';
  const text = `{claims${p.path.text.startsWith('[') ? '' : '.'}${p.path.text}}`;
  return { kind: VARIABLE, text, claim: p.path };
}

/** Index of the '}' closing the variable opened at `open`, skipping JSON strings; -1 when unclosed. */
function variableEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '}') {
      return i;
    } else if (c === '{') {
      return -1;
    }
  }
  return -1;
}

/**
 * True when path[start, end) (a normalised, non-empty segment) names the
 * claim's value. The segment is compared after percent-decoding, which is
 * how the app will read it: a claim "a b" matches `a%20b`, and a claim that
 * is itself percent-encoded text ("a%20b") does not, since that segment is
 * a different resource to the app. Values that can never be a normalised
 * segment ('', '.', '..', anything with '/') therefore never match: the
 * segment is non-empty, and normalizePath has resolved dot segments and
 * refused encoded slashes.
 */
function segmentEqualsClaim(path: string, start: number, end: number, v: unknown): boolean {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) s = String(v);
  else return false;
  const pct = path.indexOf('%', start);
  if (pct < 0 || pct >= end) return s.length === end - start && path.startsWith(s, start);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.slice(start, end));
  } catch {
    return false; // not UTF-8 once decoded: cannot equal a JSON string
  }
  return decoded === s;
}
