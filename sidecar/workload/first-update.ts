import type { Clock, TimerHandle } from '../core/index.ts';
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
