import type { TimerHandle } from '../core/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import type { WorkloadApiServer } from './server.ts';

/** One X509-SVID the dev agent issued, with its key (never logged). */
export interface IssuedSvid {
  readonly id: SpiffeId;
  readonly hint: string;
  readonly chainDer: Buffer;
  readonly keyPkcs8Der: Buffer;
  readonly notAfter: Date;
}

/**
 * The dev agent's view of one workload socket: the identities it should
 * get, the SVIDs currently issued, and who is listening for changes.
 */
export class WorkloadState {
  readonly socketPath: string;
  readonly mode: number;
  ids: readonly SpiffeId[];
  hints: readonly string[];
  issued: readonly IssuedSvid[] = [];
  rotationTimer: TimerHandle | undefined;
  server: WorkloadApiServer | undefined;
  /** Serialises re-issuing so a rotation timer and an API call never interleave. */
  queue: Promise<void> = Promise.resolve();
  readonly #subscribers = new Set<() => void>();

  constructor(socketPath: string, mode: number, ids: readonly SpiffeId[], hints: readonly string[]) {
    this.socketPath = socketPath;
    this.mode = mode;
    this.ids = ids;
    this.hints = hints;
  }

  /** Registers a change listener (one per open stream); returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** Tells every open stream that the state changed. */
  notify(): void {
    for (const fn of [...this.#subscribers]) fn();
  }

  /** Number of open streams, for tests and logs. */
  get subscribers(): number {
    return this.#subscribers.size;
  }
}
