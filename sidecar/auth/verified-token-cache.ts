import type { TokenOutcome } from './verified-token.ts';
import type { TokenBinding } from './jwt-claims.ts';

/**
 * A token that passed every check, as remembered by {@link VerifiedTokenCache}.
 * Holds the ready-made `valid` outcome so a cache hit allocates nothing.
 */
export class VerifiedEntry {
  /** The `{ kind: 'valid' }` outcome, frozen. */
  readonly outcome: TokenOutcome;
  /** Index of the provider that verified it. */
  readonly provider: number;
  /** First instant (ms) the token is no longer valid: `exp` plus the allowed skew. */
  readonly validUntilMs: number;
  readonly binding: TokenBinding;
  /** The key set (or JWT bundle) it was verified with: when the provider's current one differs, the token is checked again. */
  readonly keyRef: object;
  /** What the provider needs to find its current key set for this token (the trust domain of a JWT-SVID). */
  readonly scope: unknown;

  constructor(outcome: TokenOutcome, provider: number, validUntilMs: number, binding: TokenBinding, keyRef: object, scope: unknown) {
    this.outcome = outcome;
    this.provider = provider;
    this.validUntilMs = validUntilMs;
    this.binding = binding;
    this.keyRef = keyRef;
    this.scope = scope;
    Object.freeze(this);
  }
}

/**
 * Remembers verified tokens by the SHA-256 of the token text (never the
 * token itself), so a repeated token skips signature verification. Bounded:
 * when full, the oldest entry goes (insertion order; a hit does not reorder,
 * which keeps hits free of writes). Entries are rechecked against the clock
 * on every hit.
 */
export class VerifiedTokenCache {
  readonly #max: number;
  readonly #entries = new Map<string, VerifiedEntry>();

  /** `maxEntries` 0 disables the cache. */
  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry for `key` if it is still within its lifetime at `now`; an expired one is removed. */
  get(key: string, now: number): VerifiedEntry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now >= e.validUntilMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Stores `entry` under `key`, evicting the oldest entry when full. */
  set(key: string, entry: VerifiedEntry): void {
    if (this.#max === 0) return;
    if (this.#entries.has(key)) this.#entries.delete(key);
    else if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }

  /** Forgets `key` (its key set changed). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}
