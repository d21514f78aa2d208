import { silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { watchUntilFirstUpdate } from './first-update.ts';
import type { WatchHandle, Watcher } from './stream-watch.ts';
import type { WorkloadApiClient } from './workload-api-client.ts';
import { WorkloadApiError } from './workload-api-error.ts';

/** How a source is told apart in its log lines and errors. */
export interface SourceNames {
  /** The `component` of its log lines ("x509-source"). */
  readonly component: string;
  /** Names it in create()'s errors ("X.509 source"). */
  readonly what: string;
}

/**
 * What X509Source and JwtSource share: one watch stream on a Workload API
 * client (closed with the source only when the source made it), the
 * bundles of its last update, the last error it reported, and the closed
 * state every getter checks. A subclass takes in the updates (`T`) and
 * reacts to the errors.
 */
export abstract class WatchedSource<T, B> {
  protected readonly client: WorkloadApiClient;
  protected readonly clock: Clock;
  protected readonly logger: Logger;
  readonly #ownsClient: boolean;
  readonly #names: SourceNames;
  #watch: WatchHandle | undefined;
  #closed = false;
  #lastError: WorkloadApiError | undefined;
  #bundles: B;

  /** `noBundles` is the empty set the source holds until the first update. */
  protected constructor(
    client: WorkloadApiClient,
    ownsClient: boolean,
    opts: { readonly clock?: Clock | undefined; readonly logger?: Logger | undefined },
    names: SourceNames,
    noBundles: B,
  ) {
    this.client = client;
    this.#bundles = noBundles;
    this.#ownsClient = ownsClient;
    this.#names = names;
    this.clock = opts.clock ?? systemClock;
    this.logger = (opts.logger ?? silentLogger).child({ component: names.component });
  }

  /**
   * Opens the watch and resolves once `apply` calls an update usable.
   * Rejects on a fatal status, `timeoutMs` or `signal`, naming the last
   * error seen, and closes the source then.
   */
  protected async start(opts: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number | undefined }, watch: (watcher: Watcher<T>) => WatchHandle, apply: (update: T) => boolean): Promise<void> {
    await watchUntilFirstUpdate<T>({
      what: this.#names.what,
      clock: this.clock,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      watch: (watcher) => (this.#watch = watch(watcher)),
      apply,
      onError: (err) => {
        if (this.#closed) return;
        this.#lastError = err;
        this.watchError(err);
      },
      lastError: () => this.#lastError,
      close: () => this.close(),
    });
  }

  /** A watch error, already recorded as {@link lastError}; not called once closed. */
  protected abstract watchError(err: WorkloadApiError): void;

  /** Drops what the subclass holds for its listeners; called once, by close(). */
  protected abstract dropListeners(): void;

  /** All bundles of the last update (empty before the first one, and after the agent withdrew them). */
  bundles(): B {
    this.ensureOpen();
    return this.#bundles;
  }

  /** Replaces the bundles (an update, or a withdrawal). */
  protected setBundles(bundles: B): void {
    this.#bundles = bundles;
  }

  /** The last error the watch reported, if any (for health output). */
  get lastError(): WorkloadApiError | undefined {
    return this.#lastError;
  }

  /** Records why the source is not usable though the watch is fine (e.g. no SVID matches the picker). */
  protected set lastError(err: WorkloadApiError) {
    this.#lastError = err;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Stops the watch (and the client if the source made it); getters then throw 'workload.closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.cancel();
    if (this.#ownsClient) this.client.close();
    this.dropListeners();
  }

  /** Throws 'workload.closed' once {@link close} ran. */
  protected ensureOpen(): void {
    if (this.#closed) throw new WorkloadApiError('workload.closed', `${this.#names.component.replace('-', ' ')}: the source is closed`);
  }
}
