/** What a caller's denies that were not written add up to. */
export interface SuppressedDenies {
  /** The caller key (SPIFFE ID, '' for the local app, or {@link OVERFLOW_CALLER}). */
  readonly caller: string;
  readonly count: number;
  /** When the first of them happened (ms since the epoch). */
  readonly sinceMs: number;
}

/** The shared bucket of callers that found the map full. */
export const OVERFLOW_CALLER = '*';

interface Bucket {
  tokens: number;
  updatedMs: number;
  suppressed: number;
  sinceMs: number;
}

/**
 * A token bucket per caller for deny lines: `burst` lines at once, then
 * `perMinute` a minute. The map holds at most `maxCallers` callers; when it
 * is full, idle callers (bucket full again, nothing suppressed) are dropped,
 * and if none is idle the newcomer shares one overflow bucket, so a refused
 * caller (or many) can never grow memory or the log without bound.
 */
export class DenyLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxCallers: number;
  readonly #buckets = new Map<string, Bucket>();
  /** Set by {@link take} when it returns a count above 0: when those denies began. */
  suppressedSinceMs = 0;

  constructor(burst: number, perMinute: number, maxCallers: number) {
    this.#burst = burst;
    this.#perMs = perMinute / 60_000;
    this.#maxCallers = maxCallers;
  }

  /**
   * Takes a token for one deny line of `caller` at `nowMs`. Returns -1 when
   * the line must be dropped (counted instead), else the number of denies
   * dropped since this caller's last written line (then
   * {@link suppressedSinceMs} says since when), which the caller reports
   * in a summary line before this one.
   */
  take(caller: string, nowMs: number): number {
    const b = this.#bucketFor(caller, nowMs);
    const elapsed = nowMs - b.updatedMs;
    if (elapsed > 0) b.tokens = Math.min(this.#burst, b.tokens + elapsed * this.#perMs);
    b.updatedMs = nowMs;
    if (b.tokens < 1) {
      if (b.suppressed === 0) b.sinceMs = nowMs;
      b.suppressed++;
      return -1;
    }
    b.tokens -= 1;
    const n = b.suppressed;
    if (n > 0) {
      this.suppressedSinceMs = b.sinceMs;
      b.suppressed = 0;
    }
    return n;
  }

  /** Callers tracked now (for tests: the map stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Every pending suppressed count, cleared (for a last summary at shutdown). */
  flush(): SuppressedDenies[] {
    const out: SuppressedDenies[] = [];
    for (const [caller, b] of this.#buckets) {
      if (b.suppressed === 0) continue;
      out.push({ caller, count: b.suppressed, sinceMs: b.sinceMs });
      b.suppressed = 0;
    }
    return out;
  }

  #bucketFor(caller: string, nowMs: number): Bucket {
    let b = this.#buckets.get(caller);
    if (b !== undefined) return b;
    if (this.#buckets.size >= this.#maxCallers) this.#pruneIdle(nowMs);
    // The overflow bucket is allowed one slot beyond the cap.
    const key = this.#buckets.size < this.#maxCallers ? caller : OVERFLOW_CALLER;
    b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.#burst, updatedMs: nowMs, suppressed: 0, sinceMs: 0 };
      this.#buckets.set(key, b);
    }
    return b;
  }

  /** Drops callers whose bucket has refilled and who owe no summary: forgetting them changes nothing. */
  #pruneIdle(nowMs: number): void {
    for (const [caller, b] of this.#buckets) {
      if (caller === OVERFLOW_CALLER || b.suppressed > 0) continue;
      if (b.tokens + (nowMs - b.updatedMs) * this.#perMs >= this.#burst) this.#buckets.delete(caller);
    }
  }
}
