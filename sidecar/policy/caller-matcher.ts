import type { IdMatcher, SpiffeId } from '../spiffe/index.ts';

/** One `from` entry of a rule, already validated and in canonical form. */
export type CallerEntry =
  | { readonly id: string }
  | { readonly idPrefix: string }
  | { readonly trustDomain: string };

/**
 * The compiled `from` list of one rule: accepts a peer when any entry does.
 * Exact IDs and trust domains are set lookups and ID prefixes are
 * `startsWith` calls, so matching allocates nothing.
 */
export class CallerMatcher implements IdMatcher {
  readonly #ids: ReadonlySet<string>;
  /** `idPrefix` entries without their final '*', so each ends in '/'. */
  readonly #prefixes: readonly string[];
  readonly #trustDomains: ReadonlySet<string>;
  /** What is accepted, in words, for /debug and logs. */
  readonly description: string;

  constructor(entries: readonly CallerEntry[]) {
    const ids = new Set<string>();
    const prefixes: string[] = [];
    const tds = new Set<string>();
    const words: string[] = [];
    for (const e of entries) {
      if ('id' in e) {
        ids.add(e.id);
        words.push(e.id);
      } else if ('idPrefix' in e) {
        // 'spiffe://td/ns/*' → 'spiffe://td/ns/': the kept '/' is what makes
        // the match stop at a segment boundary ('/nsX' and '/ns' itself fail).
        prefixes.push(e.idPrefix.slice(0, -1));
        words.push(e.idPrefix);
      } else {
        tds.add(e.trustDomain);
        words.push(`any ID in trust domain ${e.trustDomain}`);
      }
    }
    this.#ids = ids;
    this.#prefixes = prefixes;
    this.#trustDomains = tds;
    this.description = words.join(', ');
  }

  /** True when the peer is accepted by any entry. */
  matches(id: SpiffeId): boolean {
    return this.matchesParts(id.toString(), id.trustDomain.name);
  }

  /** {@link matches} on the ID's string form and trust domain name, read once per request by the caller. */
  matchesParts(id: string, trustDomain: string): boolean {
    if (this.#ids.has(id) || this.#trustDomains.has(trustDomain)) return true;
    // SPIFFE IDs never end in '/', so a prefix match always has a segment after it.
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) if (id.startsWith(prefixes[i]!)) return true;
    return false;
  }
}
