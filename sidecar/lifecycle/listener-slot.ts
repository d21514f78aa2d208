import { describeError, type Logger } from '../core/index.ts';
import type { ProxyListener } from '../forward/index.ts';
import { AppError } from './app-error.ts';

/** One listener of the sidecar as readiness, /debug/listeners and logs see it. */
export interface ListenerState {
  /** `admin`, `inbound`, `outbound`, `tcp-inbound:<name>` or `tcp-outbound:<name>`. */
  readonly name: string;
  /** The configured `host:port`. */
  readonly address: string;
  readonly bound: boolean;
}

/** When a slot's listener may bind: at start(), or once the first SVID arrived (its TLS server takes it at creation). */
export type SlotStage = 'at-start' | 'after-first-svid';

/**
 * A place for one proxy listener: its name and address from the config,
 * the factory that makes it (called once, when it binds), and whether it is
 * bound. Listeners are made late because a tracer or the first SVID may
 * only exist by then.
 */
export class ListenerSlot implements ListenerState {
  readonly name: string;
  readonly address: string;
  readonly stage: SlotStage;
  readonly #make: () => ProxyListener;
  #listener: ProxyListener | undefined;
  #bound = false;

  constructor(name: string, address: string, stage: SlotStage, make: () => ProxyListener) {
    this.name = name;
    this.address = address;
    this.stage = stage;
    this.#make = make;
  }

  get bound(): boolean {
    return this.#bound;
  }

  /** The listener once made (bound or not), for drain. */
  get listener(): ProxyListener | undefined {
    return this.#listener;
  }

  /** Makes the listener and binds it; rejects with 'app.listen_failed' naming the slot. */
  async bind(log: Logger): Promise<void> {
    const listener = this.#make();
    this.#listener = listener;
    try {
      await listener.start();
    } catch (err) {
      throw new AppError('app.listen_failed', `app: ${this.name} cannot listen on ${this.address}: ${describeError(err)}`, { cause: err });
    }
    this.#bound = true;
    log.info({ listener: this.name, address: this.address }, 'listening');
  }

  /** Closes the listener now (after drain); the slot reads as unbound. */
  close(): void {
    this.#listener?.close();
    this.#bound = false;
  }

  /** A plain copy for readiness and /debug/listeners. */
  state(): ListenerState {
    return { name: this.name, address: this.address, bound: this.#bound };
  }
}
