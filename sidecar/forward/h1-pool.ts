import type { Dialer } from './dialer.ts';
import type { Exchange } from './exchange.ts';
import { ForwardError } from './forward-error.ts';
import { H1Connection, type H1ConnectionOwner, type H1ConnectionSettings, type H1UpstreamRequest } from './h1-connection.ts';
import type { UpstreamPool } from './upstream.ts';

/** What the pool needs from a request: the connection's request interface. */
export type H1PoolRequest = H1UpstreamRequest;

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
  /** Keep-alive time of an idle connection (shortened to the server's Keep-Alive hint less a second). */
  readonly idleTimeoutMs: number;
  /** Deadline for response headers once the request is sent; 0 = none. */
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

/**
 * A keep-alive HTTP/1.1 pool of raw connections (sidecar/http1 framing)
 * with our own dialer (plain TCP to the app, or SPIFFE mTLS to a peer
 * sidecar). A connection carries one request at a time: never a second one
 * pipelined behind a request still sending its body (issue 12;
 * docs/security.md).
 *
 * Each connection knows the server ID verified when it was dialled, and
 * connections made before a credential rotation are retired (finish what
 * they carry, take nothing new) when the dialer announces the change
 * (Dialer.onCredentialsChange; nothing is polled per request). Idle connections sit on a stack, so the
 * most recently used (warmest) one is reused first and a dispatch is O(1).
 */
export class H1Pool implements UpstreamPool, H1ConnectionOwner {
  readonly dst: string;
  readonly #o: H1PoolOptions;
  readonly #settings: H1ConnectionSettings;
  readonly #idle: H1Connection[] = [];
  readonly #all = new Set<H1Connection>();
  /** The connection whose dial is being started: a change announced inside dial() is already in its credentials. */
  #dialling: H1Connection | null = null;
  #closed = false;
  #onEmpty: (() => void) | null = null;

  constructor(o: H1PoolOptions) {
    this.#o = o;
    this.dst = o.dst;
    this.#settings = { idleTimeoutMs: o.idleTimeoutMs, requestTimeoutMs: o.requestTimeoutMs, maxHeaderBytes: o.maxHeaderBytes };
    // One subscription per pool, for its lifetime (the dialer is the pool's alone).
    o.dialer.onCredentialsChange(() => this.#retireAll());
  }

  forward(ex: Exchange): void {
    this.dispatch(ex);
  }

  /** Sends `req` on an idle connection or a new one; at the cap it fails with `forward.overloaded`. */
  dispatch(req: H1PoolRequest): void {
    if (this.#closed) {
      req.h1Failed(new ForwardError('forward.closed', 'proxy is shutting down'), false);
      return;
    }
    let c = this.#idle.pop();
    while (c !== undefined && !c.usable) c = this.#idle.pop();
    if (c !== undefined) {
      c.assign(req);
      return;
    }
    if (this.#all.size >= this.#o.maxConnections) {
      req.h1Failed(new ForwardError('forward.overloaded', `all ${this.#o.maxConnections} connections to ${this.dst} are busy`), false);
      return;
    }
    c = new H1Connection(this, this.#settings);
    this.#all.add(c);
    c.assign(req);
    const conn = c;
    this.#dialling = conn;
    try {
      this.#o.dialer.dial((err, socket, presentedId) => conn.dialed(err, socket, presentedId));
    } finally {
      this.#dialling = null;
    }
  }

  /** Number of connections in the pool, busy, idle or dialling. */
  get size(): number {
    return this.#all.size;
  }

  /** @internal */
  connectionIdle(c: H1Connection): void {
    if (c.retired || this.#closed) {
      c.destroy();
      return;
    }
    this.#idle.push(c);
  }

  /** @internal */
  connectionGone(c: H1Connection): void {
    this.#all.delete(c);
    const i = this.#idle.indexOf(c);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.#all.size === 0 && this.#onEmpty !== null) this.#onEmpty();
  }

  /** Closes every connection once its request finished; new dispatches fail. Resolves when all are closed. */
  close(): Promise<void> {
    this.#closed = true;
    for (const c of [...this.#all]) c.closeWhenIdle();
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onEmpty = () => {
        this.#onEmpty = null;
        resolve();
      };
    });
  }

  /** Tears every connection down now, failing requests in flight. */
  destroy(): void {
    this.#closed = true;
    for (const c of [...this.#all]) c.destroy();
    this.#idle.length = 0;
  }

  /** Our credentials changed: every connection made before finishes what it carries and closes. */
  #retireAll(): void {
    for (const c of [...this.#all]) if (c !== this.#dialling) c.closeWhenIdle();
    this.#idle.length = 0;
  }
}
