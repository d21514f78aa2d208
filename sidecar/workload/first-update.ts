import type { Clock, TimerHandle } from '../core/index.ts';
import type { Watcher } from './stream-watch.ts';
import { WorkloadApiError } from './workload-api-error.ts';

/** Inputs of {@link awaitFirstUpdate}. */
export interface FirstUpdateOptions {
  /** Names the source in error messages ("X.509 source"). */
  readonly what: string;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Starts the watch; it calls `ready` on the first usable update and `fail` on a fatal error. */
  readonly start: (ready: () => void, fail: (err: WorkloadApiError) => void) => void;
  /** The most recent watch error, quoted when giving up. */
  readonly lastError: () => WorkloadApiError | undefined;
}

/**
 * Waits for a source's first usable update, a fatal error, a timeout or an
 * abort, whichever comes first. Errors name the last watch error so "timed
 * out" says why (e.g. PermissionDenied: no identity issued).
 */
export function awaitFirstUpdate(opts: FirstUpdateOptions): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) {
    return Promise.reject(new WorkloadApiError('workload.aborted', `${opts.what}: aborted before the first update`, { cause: signal.reason }));
  }
  return new Promise<void>((resolve, reject) => new FirstUpdateWait(opts, resolve, reject).begin());
}

/** One wait of {@link awaitFirstUpdate}: the first of update, fatal error, timeout and abort settles it, and cleans up. */
class FirstUpdateWait {
  readonly #opts: FirstUpdateOptions;
  readonly #resolve: () => void;
  readonly #reject: (err: unknown) => void;
  readonly #keepAlive: ReturnType<typeof setInterval>;
  #settled = false;
  #timer: TimerHandle | undefined;
  readonly #onAbort = (): void =>
    this.#settle(() =>
      this.#reject(new WorkloadApiError('workload.aborted', `${this.#opts.what}: aborted before the first update${this.#suffix()}`, { cause: this.#opts.signal?.reason })),
    );

  constructor(opts: FirstUpdateOptions, resolve: () => void, reject: (err: unknown) => void) {
    this.#opts = opts;
    this.#resolve = resolve;
    this.#reject = reject;
    // Retry timers are unref'd (a running sidecar must be able to exit), but
    // a pending create() is like a pending connect: it must keep the process
    // alive until it settles, or a CLI awaiting it would silently exit.
    this.#keepAlive = setInterval(() => {}, 1 << 30);
  }

  /** Listens for the abort, arms the timeout, then starts the watch. */
  begin(): void {
    const opts = this.#opts;
    opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (opts.timeoutMs !== undefined) this.#timer = opts.clock.setTimeout(() => this.#settle(() => this.#reject(this.#timeoutError())), opts.timeoutMs);
    try {
      opts.start(
        () => this.#settle(this.#resolve),
        (err) => this.#settle(() => this.#reject(err)),
      );
    } catch (err) {
      this.#settle(() => this.#reject(err));
    }
  }

  #timeoutError(): WorkloadApiError {
    return new WorkloadApiError('workload.timeout', `${this.#opts.what}: no usable update within ${this.#opts.timeoutMs} ms${this.#suffix()}`, {
      cause: this.#opts.lastError(),
    });
  }

  /** Names the last watch error, so "timed out" says why. */
  #suffix(): string {
    const last = this.#opts.lastError();
    return last ? `; last error: ${last.message}` : '';
  }

  #settle(fn: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    clearInterval(this.#keepAlive);
    this.#timer?.cancel();
    this.#opts.signal?.removeEventListener('abort', this.#onAbort);
    fn();
  }
}

/** What {@link watchUntilFirstUpdate} needs from a source being created. */
export interface SourceWatchStart<T> {
  /** Names the source in error messages ("X.509 source"). */
  readonly what: string;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
  /** Opens the watch with these callbacks (the source keeps the handle to cancel it). */
  readonly watch: (watcher: Watcher<T>) => void;
  /** Takes in one update; true when the source is now usable. */
  readonly apply: (update: T) => boolean;
  /** Records a watch error (a fatal one also ends the wait). */
  readonly onError: (err: WorkloadApiError) => void;
  readonly lastError: () => WorkloadApiError | undefined;
  /** Closes the source when the wait fails, so nothing keeps watching. */
  readonly close: () => void;
}

/**
 * The start of every Workload API source: open its watch, wait with
 * {@link awaitFirstUpdate} for the first usable update, and close the
 * source when that wait fails (timeout, abort, fatal status).
 */
export async function watchUntilFirstUpdate<T>(s: SourceWatchStart<T>): Promise<void> {
  try {
    await awaitFirstUpdate({
      what: s.what,
      clock: s.clock,
      ...(s.signal ? { signal: s.signal } : {}),
      ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
      start: (ready, fail) => {
        s.watch({
          onUpdate: (update) => {
            if (s.apply(update)) ready();
          },
          onError: (err) => {
            s.onError(err);
            if (err.code === 'workload.fatal_status') fail(err);
          },
        });
      },
      lastError: s.lastError,
    });
  } catch (err) {
    s.close();
    throw err;
  }
}
