import type { Clock, TimerHandle } from '../core/index.ts';
import type { BodyTimeoutReason } from '../metrics/index.ts';

/**
 * A request whose body is being sent upstream, as the watch sees it. The
 * `watch*` fields belong to {@link UploadWatch}; they live on the request
 * itself so that watching one costs no object of its own.
 */
export interface WatchedUpload {
  /** A count that grows while body bytes arrive (bytes received, or read on the connection). */
  bodyProgress(): number;
  /** Response bytes relayed so far: a body whose response moves is not idle. */
  readonly responseBytes: number;
  /** Cuts the request off; the watch has already forgotten it. */
  uploadTimedOut(reason: BodyTimeoutReason): void;
  watchStartedAt: number;
  watchBase: number;
  watchSeen: number;
  watchIdleSince: number;
  watchMinRate: boolean;
}

/**
 * Cuts off request bodies that stall or crawl, the slow-upload attack on an
 * app's connections (docs/security.md "Upstream budget"). One sweep timer
 * per listener checks every body in flight, so the per-chunk cost is a
 * counter and no timer is armed per request.
 *
 * - idle: neither a body byte nor a response byte for `idleMs`
 *   (like Envoy's stream_idle_timeout);
 * - min_rate (only where `watchMinRate`, i.e. the body holds an HTTP/1.1
 *   upstream connection of its own): the body may fall behind
 *   `minBytesPerSecond` by at most `idleMs` in total, Apache
 *   mod_reqtimeout's `body=T,MinRate=R` model: allowed time = T + bytes / R.
 */
export class UploadWatch {
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #minBytesPerSecond: number;
  readonly #tickMs: number;
  readonly #watched = new Set<WatchedUpload>();
  readonly #sweep: () => void;
  #timer: TimerHandle | null = null;

  /** `idleMs` 0 turns the watch off (and with it the rate check). */
  constructor(clock: Clock, idleMs: number, minBytesPerSecond: number) {
    this.#clock = clock;
    this.#idleMs = idleMs;
    this.#minBytesPerSecond = minBytesPerSecond;
    // A quarter of the timeout keeps a cut within 25% of it; at most once a second.
    this.#tickMs = Math.max(25, Math.min(1000, Math.floor(idleMs / 4)));
    this.#sweep = () => this.#check();
  }

  /** True when bodies are watched at all. */
  get enabled(): boolean {
    return this.#idleMs > 0;
  }

  /** Bodies watched now. */
  get size(): number {
    return this.#watched.size;
  }

  /** Starts watching `u`'s body; `minRate` applies the rate check too. */
  add(u: WatchedUpload, minRate: boolean): void {
    if (this.#idleMs <= 0 || this.#watched.has(u)) return;
    const now = this.#clock.now();
    const progress = u.bodyProgress();
    u.watchStartedAt = now;
    u.watchIdleSince = now;
    u.watchBase = progress;
    u.watchSeen = progress + u.responseBytes;
    u.watchMinRate = minRate && this.#minBytesPerSecond > 0;
    this.#watched.add(u);
    if (this.#timer === null) this.#timer = this.#clock.setTimeout(this.#sweep, this.#tickMs);
  }

  /** Stops watching `u` (its body ended, or the request is over). */
  delete(u: WatchedUpload): void {
    this.#watched.delete(u);
  }

  /** Forgets every body and stops the timer. */
  clear(): void {
    this.#watched.clear();
    this.#timer?.cancel();
    this.#timer = null;
  }

  #check(): void {
    this.#timer = null;
    const now = this.#clock.now();
    for (const u of this.#watched) {
      const progress = u.bodyProgress();
      const activity = progress + u.responseBytes;
      if (activity !== u.watchSeen) {
        u.watchSeen = activity;
        u.watchIdleSince = now;
      } else if (now - u.watchIdleSince >= this.#idleMs) {
        this.#watched.delete(u);
        u.uploadTimedOut('idle');
        continue;
      }
      if (u.watchMinRate && now - u.watchStartedAt > this.#idleMs + ((progress - u.watchBase) * 1000) / this.#minBytesPerSecond) {
        this.#watched.delete(u);
        u.uploadTimedOut('min_rate');
      }
    }
    if (this.#watched.size > 0) this.#timer = this.#clock.setTimeout(this.#sweep, this.#tickMs);
  }
}
