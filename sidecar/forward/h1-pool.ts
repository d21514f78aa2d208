import { Client, type Dispatcher } from 'undici';
import type { Dialer } from './dialer.ts';
import type { Exchange } from './exchange.ts';
import { ForwardError } from './forward-error.ts';
import type { Upstream } from './upstream.ts';

/** What the pool needs from a request: undici's handler interface plus its dispatch options. */
export interface H1PoolRequest extends Dispatcher.DispatchHandler {
  /** The options for undici's dispatch (method, path, raw headers, body stream, upgrade). */
  h1DispatchOptions(): Dispatcher.DispatchOptions;
  /** Set by the pool; the request calls `slot.release()` once undici is done with it. */
  slot: PoolSlot | null;
}

/** Options of {@link H1Pool}. */
export interface H1PoolOptions {
  readonly dialer: Dialer;
  /** Name for logs and the access log's `dst`. */
  readonly dst: string;
  /**
   * Most connections open at once. A request that finds them all busy fails
   * with `forward.overloaded` (503) rather than queueing on one of them,
   * where it would wait behind a request whose body may never end.
   */
  readonly maxConnections: number;
  /** Keep-alive time of an idle connection when the server gives no Keep-Alive hint. */
  readonly idleTimeoutMs: number;
  /** Deadline for response headers (undici headersTimeout); 0 = none. */
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

/**
 * One connection of the pool: an undici Client (which holds at most one
 * socket and reconnects on demand) and what we know about its peer.
 */
export class PoolSlot {
  readonly client: Client;
  /** Requests dispatched and not yet finished. */
  inflight = 0;
  /** The SPIFFE ID the server presented on the current connection ('' for plain TCP). */
  presentedId = '';
  /** Set when credentials rotated: finish what is queued, take nothing new. */
  retired = false;
  readonly #pool: H1Pool;

  constructor(pool: H1Pool, client: Client) {
    this.#pool = pool;
    this.client = client;
  }

  /** Tells the pool one request of this slot finished; call exactly once per dispatch. */
  release(): void {
    this.inflight--;
    this.#pool.released(this);
  }
}

/**
 * A keep-alive HTTP/1.1 pool over undici Clients, one per connection, with
 * our own dialer (plain TCP to the app, or SPIFFE mTLS to a peer sidecar).
 * A connection carries one request at a time: never a second one queued
 * behind a request still sending its body (issue 12; docs/security.md).
 *
 * Why not undici's Pool: a request's handler must learn which connection
 * (so which verified server ID) served it, and connections made before a
 * credential rotation must be retired; Pool exposes neither. Idle slots sit
 * on a stack, so the most recently used (warmest) connection is reused first
 * and a dispatch is O(1).
 */
export class H1Pool implements Upstream {
  readonly dst: string;
  readonly #o: H1PoolOptions;
  readonly #idle: PoolSlot[] = [];
  readonly #all = new Set<PoolSlot>();
  #generation: number;
  #closed = false;

  constructor(o: H1PoolOptions) {
    this.#o = o;
    this.dst = o.dst;
    this.#generation = o.dialer.generation();
  }

  forward(ex: Exchange): void {
    this.dispatch(ex);
  }

  /** Sends `req` on an idle connection or a new one; at the cap it fails with `forward.overloaded`. */
  dispatch(req: H1PoolRequest): void {
    if (this.#closed) {
      req.onResponseError?.(null as never, new ForwardError('forward.closed', 'proxy is shutting down'));
      return;
    }
    const gen = this.#o.dialer.generation();
    if (gen !== this.#generation) {
      this.#generation = gen;
      this.#retireAll();
    }
    let slot = this.#idle.pop();
    if (slot === undefined) {
      if (this.#all.size >= this.#o.maxConnections) {
        req.onResponseError?.(null as never, new ForwardError('forward.overloaded', `all ${this.#o.maxConnections} connections to ${this.dst} are busy`));
        return;
      }
      slot = this.#newSlot();
    }
    slot.inflight++;
    req.slot = slot;
    slot.client.dispatch(req.h1DispatchOptions(), req);
  }

  /** Number of connections (slots) in the pool, busy or idle. */
  get size(): number {
    return this.#all.size;
  }

  /** @internal Called by PoolSlot.release. */
  released(slot: PoolSlot): void {
    if (slot.retired || this.#closed) {
      if (slot.inflight === 0) void slot.client.close().catch(noop);
      return;
    }
    if (slot.inflight === 0) this.#idle.push(slot);
  }

  /** Closes every connection once its requests finished; new dispatches fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((s) => s.client.close().catch(noop)));
  }

  /** Tears every connection down now, failing requests in flight. */
  destroy(): void {
    this.#closed = true;
    for (const s of this.#all) void s.client.destroy().catch(noop);
    this.#all.clear();
    this.#idle.length = 0;
  }

  #newSlot(): PoolSlot {
    const o = this.#o;
    let slot: PoolSlot;
    const client = new Client(`http://${o.dialer.target}`, {
      pipelining: 1,
      keepAliveTimeout: o.idleTimeoutMs,
      headersTimeout: o.requestTimeoutMs,
      bodyTimeout: 0,
      maxHeaderSize: o.maxHeaderBytes,
      strictContentLength: true,
      allowH2: false,
      connect: (_opts, cb) => {
        o.dialer.dial((err, socket, presentedId) => {
          if (err) return cb(err, null);
          slot.presentedId = presentedId ?? '';
          cb(null, socket!);
        });
      },
    });
    // undici reports connection errors to the requests; these events would
    // otherwise be unhandled EventEmitter errors.
    client.on('connectionError', noop);
    slot = new PoolSlot(this, client);
    this.#all.add(slot);
    return slot;
  }

  #retireAll(): void {
    for (const s of this.#all) {
      s.retired = true;
      if (s.inflight === 0) void s.client.close().catch(noop);
    }
    this.#all.clear();
    this.#idle.length = 0;
  }
}

function noop(): void {}
