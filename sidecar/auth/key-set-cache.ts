import { describeError, type Clock, type Logger, type TimerHandle } from '../core/index.ts';
import type { AuthObserver } from './auth-observer.ts';
import type { JwkSet } from './jwk-set.ts';
import type { KeySetLoad, KeySetLoader } from './key-set-loader.ts';
import type { KeySetCacheOptions } from './jwt-provider-options.ts';

/** A provider's key set as seen from outside, for readiness and debug output. */
export interface KeySetStatus {
  readonly provider: string;
  /** True while a usable (fresh or stale-if-error) set is held. */
  readonly ready: boolean;
  readonly keyCount: number;
  /** When the held set was last fetched or confirmed; undefined before the first success. */
  readonly fetchedAtMs: number | undefined;
  /** When the held set stops being fresh. */
  readonly expiresAtMs: number | undefined;
  /** Message of the last failed load, cleared by a success. Never key material or query strings. */
  readonly lastError: string | undefined;
}

/** What {@link KeySetCache} needs besides its loader. */
export interface KeySetCacheDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly observer: AuthObserver;
  /** Uniform in [0, 1), spreads retries of many sidecars apart. */
  readonly random: () => number;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 300_000;
const MAX_WARNED = 256;

/**
 * One provider's key set, kept fresh. Rules:
 * - lifetime from the loader (Cache-Control `max-age`, clamped); a timer
 *   refreshes the set when it expires;
 * - a failed load keeps the last good set, up to `staleIfErrorMs` past its
 *   expiry, then drops it; failed refreshes retry with jittered backoff;
 * - an unknown `kid` may force a load at most once per
 *   `unknownKeyRefetchIntervalMs`; all callers share one load in flight
 *   (single flight), which settles within `fetchTimeoutMs`.
 * Every time decision reads the injected clock; timers are the clock's (unref'd).
 */
export class KeySetCache {
  readonly #provider: string;
  readonly #loader: KeySetLoader;
  readonly #cache: Required<KeySetCacheOptions>;
  readonly #fetchTimeoutMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #observer: AuthObserver;
  readonly #random: () => number;
  #set: JwkSet | undefined;
  #fetchedAt: number | undefined;
  #expiresAt = 0;
  #dropAt = 0;
  #inflight: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #lastStart = -Infinity;
  /** When the last load forced by an unknown `kid` started; only these count against the refetch interval. */
  #lastForced = -Infinity;
  #lastFailed = false;
  #lastError: string | undefined;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #closed = false;
  readonly #waiters = new Set<() => void>();
  readonly #warned = new Set<string>();

  constructor(provider: string, loader: KeySetLoader, opts: { cache: Required<KeySetCacheOptions>; fetchTimeoutMs: number }, deps: KeySetCacheDeps) {
    this.#provider = provider;
    this.#loader = loader;
    this.#cache = opts.cache;
    this.#fetchTimeoutMs = opts.fetchTimeoutMs;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#observer = deps.observer;
    this.#random = deps.random;
  }

  /** Starts the first load in the background (no-op once started or closed). */
  start(): void {
    if (!this.#closed && this.#lastStart === -Infinity) void this.#load();
  }

  /** The set to verify with at `now`, or undefined when none is held (never loaded, or dropped after the stale window). */
  current(now: number): JwkSet | undefined {
    if (this.#set !== undefined && now >= this.#dropAt) this.#drop();
    return this.#set;
  }

  /** True when the most recent load failed (the issuer or file is unreachable or broken). */
  get lastLoadFailed(): boolean {
    return this.#lastFailed;
  }

  /**
   * Loads again because a token named a `kid` the set lacks. Returns the
   * load in flight (joining it if one is already running), or undefined
   * when another unknown-`kid` load started less than
   * `unknownKeyRefetchIntervalMs` ago: then the current state is the
   * answer. Scheduled loads do not count, so a key rotated right after a
   * start or a refresh is fetched at once. The promise never rejects.
   */
  refetchForUnknownKey(now: number): Promise<void> | undefined {
    if (this.#inflight !== undefined) return this.#inflight;
    if (this.#closed || now - this.#lastForced < this.#cache.unknownKeyRefetchIntervalMs) return undefined;
    this.#lastForced = now;
    return this.#load();
  }

  /** Resolves true once a set is held, or false after `timeoutMs` (clock time) or on close. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.current(this.#clock.now()) !== undefined) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        timer.cancel();
        this.#waiters.delete(onReady);
        resolve(ok);
      };
      const onReady = () => done(this.#set !== undefined);
      const timer = this.#clock.setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(onReady);
    });
  }

  /** A snapshot for readiness and debug output. */
  status(): KeySetStatus {
    const set = this.current(this.#clock.now());
    return Object.freeze({
      provider: this.#provider,
      ready: set !== undefined,
      keyCount: set?.size ?? 0,
      fetchedAtMs: set === undefined ? undefined : this.#fetchedAt,
      expiresAtMs: set === undefined ? undefined : this.#expiresAt,
      lastError: this.#lastError,
    });
  }

  /** Stops timers, aborts a load in flight, releases ready() waiters and closes the loader. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#abort?.abort(new Error('auth: key set cache closed'));
    for (const w of [...this.#waiters]) w();
    await this.#loader.close();
  }

  #load(): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight;
    this.#lastStart = this.#clock.now();
    this.#timer?.cancel();
    this.#timer = undefined;
    const abort = new AbortController();
    this.#abort = abort;
    let deadline: TimerHandle | undefined;
    // The deadline settles the shared promise even if the loader ignored the
    // abort, so no caller waits longer than the fetch timeout.
    const timedOut = new Promise<never>((_, reject) => {
      deadline = this.#clock.setTimeout(() => {
        const err = new Error(`timed out after ${this.#fetchTimeoutMs} ms`);
        abort.abort(err);
        reject(err);
      }, this.#fetchTimeoutMs);
    });
    const load = this.#loader.load(abort.signal, this.#set !== undefined);
    load.catch(() => {}); // settled through the race below; avoid an unhandled rejection if it loses
    const inflight = Promise.race([load, timedOut]).then(
      (r) => this.#succeeded(r),
      (err: unknown) => this.#failed(err),
    ).finally(() => {
      deadline?.cancel();
      if (this.#inflight === inflight) this.#inflight = undefined;
      if (this.#abort === abort) this.#abort = undefined;
    });
    this.#inflight = inflight;
    return inflight;
  }

  #succeeded(r: KeySetLoad): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    if (r.set !== undefined) {
      const before = this.#set;
      this.#set = r.set;
      if (before === undefined || before.keyIds.join('\n') !== r.set.keyIds.join('\n') || before.size !== r.set.size) {
        this.#logger.info({ source: this.#loader.source, keys: r.set.size }, before === undefined ? 'key set loaded' : 'key set changed');
      }
      for (const why of r.skipped) this.#warnOnce(why);
    }
    if (this.#set === undefined) return this.#failed(new Error('the source reported no change but no set is held'));
    this.#fetchedAt = now;
    this.#expiresAt = now + r.lifetimeMs;
    this.#dropAt = this.#expiresAt + this.#cache.staleIfErrorMs;
    if (this.#lastFailed) this.#logger.info({ source: this.#loader.source }, 'key set source reachable again');
    this.#lastFailed = false;
    this.#lastError = undefined;
    this.#failures = 0;
    this.#observer.keyFetch(this.#provider, r.set === undefined ? 'unchanged' : 'ok');
    this.#observer.keySetAge(this.#provider, 0);
    for (const w of [...this.#waiters]) w();
    this.#schedule(r.lifetimeMs);
  }

  #failed(err: unknown): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#lastFailed = true;
    this.#lastError = describeError(err);
    this.#failures++;
    this.#observer.keyFetch(this.#provider, 'error');
    if (this.#set !== undefined && now >= this.#dropAt) this.#drop();
    this.#observer.keySetAge(this.#provider, this.#set === undefined || this.#fetchedAt === undefined ? 0 : Math.floor((now - this.#fetchedAt) / 1000));
    this.#logger.warn(
      { source: this.#loader.source, failures: this.#failures, keptStaleSet: this.#set !== undefined, err: this.#lastError },
      'key set load failed',
    );
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(this.#failures - 1, 20));
    this.#schedule(Math.max(FIRST_RETRY_MS, Math.round(ceiling * (0.5 + 0.5 * this.#random()))));
  }

  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#load();
    }, delayMs);
  }

  #drop(): void {
    this.#set = undefined;
    this.#logger.error({ source: this.#loader.source }, 'key set dropped: no successful refresh within the stale-if-error window');
  }

  #warnOnce(why: string): void {
    if (this.#warned.has(why) || this.#warned.size >= MAX_WARNED) return;
    this.#warned.add(why);
    this.#logger.warn({ source: this.#loader.source, skipped: why }, 'key skipped');
  }
}
