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
  const suffix = (): string => {
    const last = opts.lastError();
    return last ? `; last error: ${last.message}` : '';
  };
  if (signal?.aborted) {
    return Promise.reject(new WorkloadApiError('workload.aborted', `${opts.what}: aborted before the first update`, { cause: signal.reason }));
  }
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let timer: TimerHandle | undefined;
    // Retry timers are unref'd (a running sidecar must be able to exit), but
    // a pending create() is like a pending connect: it must keep the process
    // alive until it settles, or a CLI awaiting it would silently exit.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(keepAlive);
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void =>
      settle(() =>
        reject(new WorkloadApiError('workload.aborted', `${opts.what}: aborted before the first update${suffix()}`, { cause: signal?.reason })),
      );
    signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined) {
      timer = opts.clock.setTimeout(
        () =>
          settle(() =>
            reject(
              new WorkloadApiError('workload.timeout', `${opts.what}: no usable update within ${opts.timeoutMs} ms${suffix()}`, {
                cause: opts.lastError(),
              }),
            ),
          ),
        opts.timeoutMs,
      );
    }
    try {
      opts.start(
        () => settle(resolve),
        (err) => settle(() => reject(err)),
      );
    } catch (err) {
      settle(() => reject(err));
    }
  });
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
