/** One `to` entry of a rule, already validated: paths in normal form, methods as tokens. */
export interface RequestEntry {
  /** Exact paths, or prefixes when they end in '/'. */
  readonly paths?: readonly string[];
  /** Prefixes matched on segment boundaries. */
  readonly pathPrefixes?: readonly string[];
  /** Methods, compared case-sensitively. */
  readonly methods?: readonly string[];
}

const SLASH = 0x2f;

/**
 * The compiled form of one `to` entry. An entry with paths needs a path and
 * an entry with methods needs a method, so on a TCP connection (neither
 * present) only entries with neither can match, and the parser refuses
 * those, leaving "rule without `to`" as the only way to allow TCP.
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
  readonly #anyPath: boolean;
  readonly #methods: ReadonlySet<string> | null;

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
    this.#anyPath = entry.paths === undefined && entry.pathPrefixes === undefined;
    this.#methods = entry.methods === undefined ? null : new Set(entry.methods);
  }

  /** True when the request's method and normalised path are both accepted; absent ones only match "any". */
  matches(method: string | undefined, path: string | undefined): boolean {
    if (this.#methods !== null && (method === undefined || !this.#methods.has(method))) return false;
    if (this.#anyPath) return true;
    if (path === undefined) return false;
    if (this.#exact !== null && this.#exact.has(path)) return true;
    for (const p of this.#dirPrefixes) if (path.startsWith(p)) return true;
    for (const p of this.#segmentPrefixes) {
      if (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === SLASH)) return true;
    }
    return false;
  }
}
