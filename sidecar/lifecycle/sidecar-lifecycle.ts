import { describeError, errorCode, type Logger } from '../core/index.ts';
import { AppError } from './app-error.ts';

/**
 * The states of a sidecar, in order: `built` (nothing bound), `starting`
 * (start() running), `serving` (start() returned; inbound may still wait
 * for the first SVID), `stopping` (stop() draining), `stopped`.
 */
export type LifecycleState = 'built' | 'starting' | 'serving' | 'stopping' | 'stopped';

/**
 * The sidecar's lifecycle as a small state machine: start() at most once
 * and only from `built`; stop() from any state, once (later calls get the
 * same result); a fatal error after start reported once, and never while
 * stopping. See docs/decisions/007-sidecar-lifecycle.md.
 */
export class SidecarLifecycle {
  #state: LifecycleState = 'built';
  #stopping: Promise<{ abandoned: number }> | undefined;
  #fatalReported = false;
  readonly #logger: Logger;
  readonly #onFatal: ((err: Error) => void) | undefined;

  constructor(logger: Logger, onFatal: ((err: Error) => void) | undefined) {
    this.#logger = logger;
    this.#onFatal = onFatal;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Runs `start` once from `built`; 'app.lifecycle' otherwise. A failed start leaves the state `starting` for stop() to clean up. */
  async start(start: () => Promise<void>): Promise<void> {
    if (this.#state !== 'built') throw new AppError('app.lifecycle', 'app: start() may be called once, before stop()');
    this.#state = 'starting';
    await start();
    if (this.#state === 'starting') this.#state = 'serving';
  }

  /** Runs `drain` on the first call only; every call gets its result. */
  stop(drain: () => Promise<{ abandoned: number }>): Promise<{ abandoned: number }> {
    if (this.#stopping === undefined) {
      this.#state = 'stopping';
      this.#stopping = drain().finally(() => {
        this.#state = 'stopped';
      });
    }
    return this.#stopping;
  }

  /** True from the first stop() call on. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Reports a failure the sidecar cannot continue after: logged and handed to onFatal once, unless stopping. */
  fatal(err: unknown): void {
    if (this.#fatalReported || this.stopping) return;
    this.#fatalReported = true;
    const e = err instanceof Error ? err : new Error(String(err));
    this.#logger.error({ code: errorCode(e), err: describeError(e) }, 'sidecar cannot continue');
    this.#onFatal?.(e);
  }
}
