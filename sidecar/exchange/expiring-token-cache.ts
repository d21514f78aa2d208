import type { TokenGranted } from './token-outcome.ts';

/**
 * Tokens by key until their `expiresAtMs`, at most `maxEntries` (the least
 * recently used go first). Lookups are synchronous; an expired entry is
 * dropped when it is looked up. `maxEntries` 0 keeps nothing.
 */
export class ExpiringTokenCache {
  readonly #max: number;
  readonly #entries = new Map<string, TokenGranted>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** The live entry for `key` at `nowMs`, or undefined. */
  get(key: string, nowMs: number): TokenGranted | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAtMs <= nowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    // Refresh its place in the eviction order.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e;
  }

  /** Keeps `entry` unless it is already expired at `nowMs`. */
  set(key: string, entry: TokenGranted, nowMs: number): void {
    if (this.#max === 0 || entry.expiresAtMs <= nowMs) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Entries held (expired ones included until looked up). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops everything. */
  clear(): void {
    this.#entries.clear();
  }
}
