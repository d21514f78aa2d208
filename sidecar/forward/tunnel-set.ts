import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../core/index.ts';

/** The open raw TCP tunnels of one listener, for activeRequests() and drain. */
export class TunnelSet {
  readonly #clock: Clock;
  readonly #open = new Map<Duplex, Duplex | null>();
  #onEmpty: (() => void) | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Tunnels open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Registers a tunnel by its accepted socket; call the returned function once it is over. */
  add(socket: Duplex): () => void {
    this.#open.set(socket, null);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#open.delete(socket);
      if (this.#open.size === 0) this.#onEmpty?.();
    };
  }

  /** Records the tunnel's other end, so destroy() closes both. */
  attach(socket: Duplex, other: Duplex): void {
    if (this.#open.has(socket)) this.#open.set(socket, other);
  }

  /** Waits for every tunnel to end, destroying the rest at the deadline; resolves with how many were cut. */
  drain(deadlineMs: number): Promise<{ abandoned: number }> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const finish = (abandoned: number): void => {
        timer?.cancel();
        this.#onEmpty = null;
        resolve({ abandoned });
      };
      if (this.#open.size === 0) return finish(0);
      this.#onEmpty = () => finish(0);
      timer = this.#clock.setTimeout(() => {
        const abandoned = this.#open.size;
        this.#onEmpty = null;
        this.destroy();
        finish(abandoned);
      }, deadlineMs);
    });
  }

  /** Destroys every tunnel now. */
  destroy(): void {
    for (const [a, b] of this.#open) {
      a.destroy();
      b?.destroy();
    }
  }
}
