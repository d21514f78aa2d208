/**
 * A timeout re-armed per request by moving a deadline instead of touching
 * Node's timer lists. `refresh()` or a socket's `setTimeout()` re-inserts
 * a timer (and `socket.setTimeout` allocates a new one with a bound
 * callback) on every call; a keep-alive connection re-arms its timeout
 * once or twice per request, so under load that was timer churn on every
 * request (docs/decisions/017-http1-engine.md, "Update"). Here arming
 * stores a number; the underlying Timeout fires at most once per period,
 * and when the deadline moved on meanwhile it is started again for the
 * time left.
 */
export class DeadlineTimer<T> {
  readonly #owner: T;
  readonly #expired: (owner: T) => void;
  readonly #unref: boolean;
  #timer: NodeJS.Timeout | null = null;
  /** The duration the Timeout was made with (refresh() re-arms with it). */
  #timerMs = 0;
  /** performance.now() at which the running Timeout fires; 0 when none runs. */
  #firesAt = 0;
  /** performance.now() at which the timeout expires; 0 when disarmed. */
  #deadline = 0;

  constructor(owner: T, expired: (owner: T) => void, unref: boolean) {
    this.#owner = owner;
    this.#expired = expired;
    this.#unref = unref;
  }

  /** Expires `ms` from now unless re-armed or disarmed first; `ms` > 0. */
  arm(ms: number): void {
    const now = performance.now();
    const deadline = now + ms;
    this.#deadline = deadline;
    // A running Timeout that fires at or before the deadline will find it and start again for the rest.
    if (this.#firesAt !== 0 && this.#firesAt <= deadline) return;
    this.#start(ms, now);
  }

  /** Nothing expires until the next arm(); the running Timeout, if any, fires and does nothing. */
  disarm(): void {
    this.#deadline = 0;
  }

  /** Disarms and cancels the running Timeout (the connection closed). */
  clear(): void {
    this.#deadline = 0;
    this.#firesAt = 0;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #start(ms: number, now: number): void {
    const whole = Math.max(1, Math.ceil(ms));
    this.#firesAt = now + whole;
    if (this.#timer !== null && this.#timerMs === whole) {
      this.#timer.refresh();
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerMs = whole;
    this.#timer = setTimeout(onFire, whole, this);
    if (this.#unref) this.#timer.unref();
  }

  /** @internal */
  fired(): void {
    this.#firesAt = 0;
    const deadline = this.#deadline;
    if (deadline === 0) return;
    const now = performance.now();
    if (deadline > now) {
      this.#start(deadline - now, now);
      return;
    }
    this.#deadline = 0;
    this.#expired(this.#owner);
  }
}

function onFire(t: { fired(): void }): void {
  t.fired();
}
