import type { PolicyPrincipal } from './policy-request.ts';

const SLASH = 0x2f;

/**
 * Why a `principals` pattern is refused, or undefined. Patterns are
 * `<iss>/<sub>` (exact), `<prefix>/*` (any principal whose `<iss>/<sub>`
 * continues after that '/'), or `*` alone (any token with a subject).
 */
export function principalProblem(p: string): string | undefined {
  if (p === '*') return undefined;
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'control characters are not allowed';
  const star = p.indexOf('*');
  if (star >= 0 && (star !== p.length - 1 || p[star - 1] !== '/')) {
    return 'a "*" may only end the pattern, right after a "/" (e.g. "https://idp.example/*"), or stand alone';
  }
  const body = star >= 0 ? p.slice(0, -2) : p;
  if (!body.includes('/') && star < 0) {
    return 'write "<issuer>/<subject>", e.g. "https://idp.example/alice" for sub "alice" of iss "https://idp.example"';
  }
  if (body === '' || body.startsWith('/')) return 'the issuer part is empty';
  const scheme = /^https?:\/\//.exec(body);
  if (star < 0 && scheme !== null && !body.includes('/', scheme[0].length)) {
    return `the subject is missing: write "${body}/<subject>", or "${body}/*" for any subject`;
  }
  if (star < 0 && p.endsWith('/')) return 'the subject part is empty; to allow every subject of the issuer end with "/*"';
  return undefined;
}

/**
 * The compiled `principals` list of one `from` entry: matches when the
 * principal's `iss + "/" + sub` equals an exact pattern or starts with a
 * prefix pattern (which ends in '/', so prefixes stop at a '/' boundary:
 * `.../team/*` matches sub `team/alice`, not `teamx/alice` nor `team`).
 * A token without a subject never matches. Compares in place: nothing is
 * concatenated or allocated per request.
 */
export class PrincipalMatcher {
  readonly #exact: readonly string[];
  /** Prefix patterns without their final '*', so each ends in '/'. */
  readonly #prefixes: readonly string[];
  readonly #any: boolean;

  constructor(patterns: readonly string[]) {
    this.#exact = patterns.filter((p) => !p.endsWith('*'));
    this.#prefixes = patterns.filter((p) => p.endsWith('/*')).map((p) => p.slice(0, -1));
    this.#any = patterns.includes('*');
  }

  /** True when the principal is accepted by any pattern. */
  matches(p: PolicyPrincipal): boolean {
    const iss = p.issuer;
    const sub = p.subject;
    if (sub === '' || iss === '') return false;
    if (this.#any) return true;
    const total = iss.length + 1 + sub.length;
    const exact = this.#exact;
    for (let i = 0; i < exact.length; i++) {
      const e = exact[i]!;
      if (e.length === total && e.charCodeAt(iss.length) === SLASH && e.startsWith(iss) && e.endsWith(sub)) return true;
    }
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const q = prefixes[i]!;
      if (total > q.length && joinedStartsWith(iss, sub, q)) return true;
    }
    return false;
  }
}

/** True when `iss + "/" + sub` starts with `q`, without building the joined string. */
function joinedStartsWith(iss: string, sub: string, q: string): boolean {
  if (q.length <= iss.length) return iss.startsWith(q);
  if (!q.startsWith(iss) || q.charCodeAt(iss.length) !== SLASH) return false;
  const off = iss.length + 1;
  const n = q.length - off;
  if (n > sub.length) return false;
  for (let k = 0; k < n; k++) if (sub.charCodeAt(k) !== q.charCodeAt(off + k)) return false;
  return true;
}
