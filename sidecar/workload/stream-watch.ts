import { status as GrpcStatus, type ClientReadableStream, type StatusObject } from '@grpc/grpc-js';
import type { Clock, Logger, TimerHandle } from '../core/index.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { classifyStatus } from './retry-policy.ts';
import { statusError, WorkloadApiError } from './workload-api-error.ts';
import { describeError } from '../core/index.ts';

/** Receives the parsed updates and the errors of one watch. */
export interface Watcher<T> {
  /** Called with the full new state after every valid message (spec §4.3: never a delta). */
  onUpdate(value: T): void;
  /**
   * Called for every problem: a message that failed validation (state kept),
   * a stream that ended (the watch reconnects unless the code is
   * 'workload.fatal_status'). Exceptions thrown here are logged and ignored.
   */
  onError?(err: WorkloadApiError): void;
}

/** A running watch. */
export interface WatchHandle {
  /** Stops the watch: cancels the stream and any pending retry. Idempotent. */
  cancel(): void;
  /** Resolves once the watch has stopped (cancelled, or a fatal status). */
  readonly done: Promise<void>;
}

/** What {@link StreamWatch} needs to run one watch. */
export interface StreamWatchDeps<M, T> {
  /** gRPC method name, for messages (`FetchX509SVID`). */
  readonly method: string;
  /** Opens a new stream. */
  readonly open: () => ClientReadableStream<M>;
  /** Validates and converts one message; throws WorkloadApiError('workload.bad_message') when invalid. */
  readonly parse: (message: M) => T;
  readonly watcher: Watcher<T>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  /** Called once when the watch stops for good. */
  readonly onStop?: () => void;
}

/**
 * Keeps one server-streaming Workload API call alive: reads messages,
 * reconnects with backoff when the stream ends (SPIFFE_Workload_API.md §4.2,
 * SPIFFE_Workload_Endpoint.md §6; go-spiffe v2 workloadapi/client.go), stops on
 * fatal statuses or cancel().
 *
 * A message that fails validation is reported and skipped, but the stream
 * stays open, as go-spiffe does: the next message carries the full state
 * again (spec §4.3), so there is nothing to resynchronise.
 */
export class StreamWatch<M, T> implements WatchHandle {
  readonly #deps: StreamWatchDeps<M, T>;
  readonly #backoff: Backoff;
  #stream: ClientReadableStream<M> | undefined;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(deps: StreamWatchDeps<M, T>) {
    this.#deps = deps;
    this.#backoff = new Backoff(deps.backoff);
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Opens the first stream. */
  start(): this {
    this.#connect();
    return this;
  }

  cancel(): void {
    this.#stop();
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    const s = this.#stream;
    this.#stream = undefined;
    s?.cancel();
    this.#deps.onStop?.();
    this.#resolveDone();
  }

  #connect(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    let stream: ClientReadableStream<M>;
    try {
      stream = this.#deps.open();
    } catch (err) {
      // Opening fails synchronously only when the channel was closed under us.
      this.#report(new WorkloadApiError('workload.closed', `${this.#deps.method}: cannot open stream`, { cause: err }));
      this.#stop();
      return;
    }
    this.#stream = stream;
    stream.on('data', (message: M) => {
      if (this.#stream !== stream) return;
      let value: T;
      try {
        value = this.#deps.parse(message);
      } catch (err) {
        this.#report(
          err instanceof WorkloadApiError
            ? err
            : new WorkloadApiError('workload.bad_message', `${this.#deps.method}: invalid response`, { cause: err }),
        );
        return;
      }
      // Reset only on a valid message: a server that sends garbage and hangs
      // up would otherwise be redialled at the shortest delay forever.
      this.#backoff.reset();
      try {
        this.#deps.watcher.onUpdate(value);
      } catch (err) {
        this.#deps.logger.error({ method: this.#deps.method, err: describe(err) }, 'watcher onUpdate threw');
      }
    });
    // The final status arrives in 'status'; 'error' duplicates it for non-OK
    // codes and must have a listener or the stream would throw.
    stream.on('error', () => {});
    stream.on('status', (s: StatusObject) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#onStatus(s);
    });
  }

  #onStatus(s: StatusObject): void {
    if (this.#stopped) return;
    const err = statusError(this.#deps.method, s);
    const action = s.code === GrpcStatus.OK ? 'retry' : classifyStatus(s.code);
    this.#report(err);
    if (action === 'fatal') {
      this.#deps.logger.warn({ method: this.#deps.method, code: err.status?.name }, 'workload API watch stopped');
      this.#stop();
      return;
    }
    const delay = this.#backoff.next();
    this.#deps.logger.debug(
      { method: this.#deps.method, code: err.status?.name, retry_in_ms: delay, attempt: this.#backoff.attempts },
      'workload API stream ended; reconnecting',
    );
    this.#timer = this.#deps.clock.setTimeout(() => this.#connect(), delay);
  }

  #report(err: WorkloadApiError): void {
    try {
      this.#deps.watcher.onError?.(err);
    } catch (e) {
      this.#deps.logger.error({ method: this.#deps.method, err: describe(e) }, 'watcher onError threw');
    }
  }
}

function describe(err: unknown): string {
  return describeError(err);
}
