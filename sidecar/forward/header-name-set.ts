import { lowerEquals } from './hop-by-hop.ts';

/**
 * Request headers the inbound proxy removes by default: they ask
 * frameworks to run another method or path than the request line names
 * (Symfony, Laravel, Express's method-override, ASP.NET, IIS URL Rewrite,
 * Zend), so the method and path the policy authorized would not be the ones
 * the app runs.
 */
export const DEFAULT_STRIPPED_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'x-http-method-override',
  'x-method-override',
  'x-http-method',
  'x-original-url',
  'x-rewrite-url',
]);

/**
 * A fixed set of header names, matched ASCII case-insensitively without
 * allocating: names are bucketed by length, so most headers are rejected
 * by one array lookup.
 */
export class HeaderNameSet {
  readonly #byLength: (readonly string[] | undefined)[] = [];
  readonly size: number;

  constructor(names: Iterable<string>) {
    const unique = new Set<string>();
    for (const n of names) unique.add(n.toLowerCase());
    const buckets: string[][] = [];
    for (const n of unique) (buckets[n.length] ??= []).push(n);
    for (let i = 0; i < buckets.length; i++) this.#byLength[i] = buckets[i];
    this.size = unique.size;
  }

  /** True when `name` is in the set, whatever its case. */
  has(name: string): boolean {
    const bucket = this.#byLength[name.length];
    if (bucket === undefined) return false;
    for (const n of bucket) if (lowerEquals(name, n)) return true;
    return false;
  }
}
