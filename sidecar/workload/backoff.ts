/** How {@link Backoff} spreads retries of many clients apart. */
export type BackoffJitter = 'full' | 'decorrelated';

/** Tuning for {@link Backoff}; every field has a default. */
export interface BackoffOptions {
  /** First delay scale in ms (default 500). */
  readonly initialMs?: number;
  /** Upper bound of any delay in ms (default 30 000, go-spiffe's cap). */
  readonly maxMs?: number;
  /** Growth factor per attempt for full jitter (default 2). */
  readonly multiplier?: number;
  /** Jitter strategy (default 'decorrelated'). */
  readonly jitter?: BackoffJitter;
  /** Uniform random source in [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
}

/**
 * Computes reconnect delays: exponential growth with jitter, capped, and
 * reset once the stream delivers a valid message again.
 *
 * Jitter matters because every workload on a node reconnects when the agent
 * restarts; without it they would all hit the new agent at the same instant.
 * - full: uniform in [0, min(max, initial × multiplier^attempt)).
 * - decorrelated: uniform in [initial, min(max, 3 × previous)), never below `initial`.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #jitter: BackoffJitter;
  readonly #random: () => number;
  #attempt = 0;
  #previous: number;

  constructor(opts: BackoffOptions = {}) {
    this.#initial = Math.max(1, opts.initialMs ?? 500);
    this.#max = Math.max(this.#initial, opts.maxMs ?? 30_000);
    this.#multiplier = Math.max(1, opts.multiplier ?? 2);
    this.#jitter = opts.jitter ?? 'decorrelated';
    this.#random = opts.random ?? Math.random;
    this.#previous = this.#initial;
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** Returns the delay before the next attempt and advances the sequence. */
  next(): number {
    const r = Math.min(Math.max(this.#random(), 0), 1);
    let delay: number;
    if (this.#jitter === 'full') {
      const ceiling = Math.min(this.#max, this.#initial * this.#multiplier ** this.#attempt);
      delay = r * ceiling;
    } else {
      const upper = Math.min(this.#max, this.#previous * 3);
      delay = Math.min(this.#max, this.#initial + r * (upper - this.#initial));
      this.#previous = delay;
    }
    this.#attempt++;
    return Math.floor(delay);
  }

  /** Starts over from the smallest delays (called after a valid message). */
  reset(): void {
    this.#attempt = 0;
    this.#previous = this.#initial;
  }
}
