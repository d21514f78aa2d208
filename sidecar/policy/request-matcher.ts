import { MATCH, NEEDS_PRINCIPAL, NO_MATCH, type MatchOutcome } from './match-outcome.ts';
import { PathTemplate } from './path-template.ts';
import type { PolicyPrincipal } from './policy-request.ts';

/** One `to` entry of a rule, already validated: paths and templates in normal form, methods as tokens. */
export interface RequestEntry {
  /** Exact paths, or prefixes when they end in '/'. */
  readonly paths?: readonly string[];
  /** Prefixes matched on segment boundaries. */
  readonly pathPrefixes?: readonly string[];
  /** Path templates (version 2), see PathTemplate; canonical spellings. */
  readonly pathTemplates?: readonly string[];
  /** Methods, compared case-sensitively. */
  readonly methods?: readonly string[];
}

const SLASH = 0x2f;

/**
 * The compiled form of one `to` entry. The method must be listed (when
 * `methods` is given) and the path must match one of `paths`,
 * `pathPrefixes` or `pathTemplates` (when any is given). An entry with
 * paths needs a path and an entry with methods needs a method, so on a
 * TCP connection (neither present) no entry matches, leaving "rule without
 * `to`" as the only way to allow TCP.
 *
 * Prefix semantics (segment boundaries): a prefix ending in '/' matches paths
 * that start with it ('/api/' matches '/api/' and '/api/x', not '/api' nor
 * '/apix'); a prefix without a final '/' matches itself and what lies below
 * it ('/api' matches '/api' and '/api/x', not '/apix').
 */
export class RequestMatcher {
  readonly #exact: ReadonlySet<string> | null;
  /** Prefixes ending in '/': plain startsWith. */
  readonly #dirPrefixes: readonly string[];
  /** Prefixes without a final '/': equal, or followed by '/'. */
  readonly #segmentPrefixes: readonly string[];
  readonly #templates: readonly PathTemplate[];
  readonly #anyPath: boolean;
  readonly #methods: ReadonlySet<string> | null;
  /** True when a template is bound to claims. */
  readonly usesClaims: boolean;

  constructor(entry: RequestEntry) {
    const exact = new Set<string>();
    const dirs: string[] = [];
    const segs: string[] = [];
    for (const p of entry.paths ?? []) {
      if (p.endsWith('/')) dirs.push(p);
      else exact.add(p);
    }
    for (const p of entry.pathPrefixes ?? []) (p.endsWith('/') ? dirs : segs).push(p);
    this.#exact = exact.size > 0 ? exact : null;
    this.#dirPrefixes = dirs;
    this.#segmentPrefixes = segs;
    this.#templates = (entry.pathTemplates ?? []).map((t) => {
      const parsed = PathTemplate.parse(t);
      if (!parsed.ok) throw new TypeError(`policy: path template ${JSON.stringify(t)} was not validated: ${parsed.problem}`);
      return parsed.template;
    });
    this.#anyPath = entry.paths === undefined && entry.pathPrefixes === undefined && entry.pathTemplates === undefined;
    this.#methods = entry.methods === undefined ? null : new Set(entry.methods);
    this.usesClaims = this.#templates.some((t) => t.usesClaims);
  }

  /** True when the request's method and normalised path are both accepted; absent ones only match "any". */
  matches(method: string | undefined, path: string | undefined): boolean {
    return this.match(method, path, undefined) === MATCH;
  }

  /**
   * {@link matches} with templates bound to the principal's claims: without
   * a principal, NEEDS_PRINCIPAL when only a claim-bound template could match.
   */
  match(method: string | undefined, path: string | undefined, principal: PolicyPrincipal | undefined): MatchOutcome {
    if (this.#methods !== null && (method === undefined || !this.#methods.has(method))) return NO_MATCH;
    if (this.#anyPath) return MATCH;
    if (path === undefined) return NO_MATCH;
    if (this.#exact !== null && this.#exact.has(path)) return MATCH;
    const dirs = this.#dirPrefixes;
    for (let i = 0; i < dirs.length; i++) if (path.startsWith(dirs[i]!)) return MATCH;
    const segs = this.#segmentPrefixes;
    for (let i = 0; i < segs.length; i++) {
      const p = segs[i]!;
      if (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === SLASH)) return MATCH;
    }
    let best: MatchOutcome = NO_MATCH;
    const templates = this.#templates;
    for (let i = 0; i < templates.length; i++) {
      const m = templates[i]!.match(path, principal);
      if (m === MATCH) return MATCH;
      if (m === NEEDS_PRINCIPAL) best = NEEDS_PRINCIPAL;
    }
    return best;
  }
}
