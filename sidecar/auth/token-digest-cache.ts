/** One cached value and the instant (ms since the epoch) it stops being served. */
interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * A bounded map from token digest to what was decided about the token: an
 * introspection verdict, or a verified JWT. Keys are SHA-256 digests of
 * tokens, never tokens, so a heap dump does not hand out bearer
 * credentials. Entries expire by the caller's clock, checked on every
 * read; when full, the oldest insertion goes first (a hit does not
 * reorder, so reads are synchronous, write nothing and allocate nothing).
 */
export class TokenDigestCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, Entry<V>>();

  /** `maxEntries` 0 disables the cache. */
  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** The value under `key` while `now` is before its expiry; an expired entry is removed. */
  get(key: string, now: number): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Stores `value` until `expiresAt`; does nothing when that is not after `now`. */
  set(key: string, value: V, now: number, expiresAt: number): void {
    if (expiresAt <= now || this.#max === 0) return;
    // Re-inserting moves the key to the newest position.
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }

  /** Forgets `key` (e.g. the key set it was verified with changed). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Number of entries held (expired ones included until read or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops everything. */
  clear(): void {
    this.#entries.clear();
  }
}
