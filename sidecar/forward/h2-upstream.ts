import http2, { type ClientHttp2Session } from 'node:http2';
import type { Logger } from '../core/index.ts';
import type { Dialer } from './dialer.ts';
import type { Exchange } from './exchange.ts';
import { ForwardError } from './forward-error.ts';
import type { Upstream } from './upstream.ts';

/** Options of {@link H2Upstream}. */
export interface H2UpstreamOptions {
  readonly dialer: Dialer;
  /** `https` towards a peer sidecar (mTLS), `http` towards an h2c app. */
  readonly scheme: 'http' | 'https';
  /** Name for logs and the access log's `dst`. */
  readonly dst: string;
  readonly maxHeaderBytes: number;
  readonly logger: Logger;
}

interface LiveSession {
  readonly session: ClientHttp2Session;
  readonly generation: number;
  readonly serverId: string;
}

/**
 * One multiplexed HTTP/2 session per upstream. Requests open streams on the
 * current session; while it is being dialled they wait in a queue. GOAWAY,
 * close or error retire the session (its streams finish, new ones go to a
 * fresh session), and so does a credential rotation: the old session gets
 * a graceful close and the next request dials with the new SVID.
 */
export class H2Upstream implements Upstream {
  readonly dst: string;
  readonly #o: H2UpstreamOptions;
  #live: LiveSession | null = null;
  #dialing = false;
  #waiting: Exchange[] = [];
  #closed = false;
  readonly #all = new Set<ClientHttp2Session>();

  constructor(o: H2UpstreamOptions) {
    this.#o = o;
    this.dst = o.dst;
  }

  forward(ex: Exchange): void {
    if (this.#closed) {
      ex.upstreamFailed(new ForwardError('forward.closed', 'proxy is shutting down'));
      return;
    }
    if (ex.upgrade !== '') {
      ex.upstreamFailed(new ForwardError('forward.unsupported', `upgrade to ${ex.upgrade} is not supported towards an HTTP/2 upstream (${this.dst})`));
      return;
    }
    const live = this.#live;
    if (live !== null && live.generation !== this.#o.dialer.generation()) this.#retire(live);
    if (this.#live !== null) {
      this.#start(this.#live, ex);
      return;
    }
    this.#waiting.push(ex);
    this.#dial();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const sessions = [...this.#all];
    await Promise.all(sessions.map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.close(() => resolve())))));
  }

  destroy(): void {
    this.#closed = true;
    for (const s of this.#all) s.destroy();
  }

  /** Sessions currently open (the live one plus retiring ones). */
  get sessions(): number {
    return this.#all.size;
  }

  #start(live: LiveSession, ex: Exchange): void {
    let stream;
    try {
      stream = live.session.request(ex.h2RequestHeaders(this.#o.scheme, this.#o.dialer.target), { endStream: !ex.hasBody });
    } catch (err) {
      // The session went away between our check and the request.
      this.#retire(live);
      ex.upstreamFailed(err);
      return;
    }
    ex.attachH2(stream, live.serverId);
  }

  #dial(): void {
    if (this.#dialing) return;
    this.#dialing = true;
    const generation = this.#o.dialer.generation();
    this.#o.dialer.dial((err, socket, serverId) => {
      this.#dialing = false;
      const waiting = this.#waiting;
      this.#waiting = [];
      if (err) {
        for (const ex of waiting) ex.upstreamFailed(err);
        return;
      }
      if (this.#closed) {
        socket!.destroy();
        for (const ex of waiting) ex.upstreamFailed(new ForwardError('forward.closed', 'proxy is shutting down'));
        return;
      }
      const session = http2.connect(`${this.#o.scheme}://${this.#o.dialer.target}`, {
        createConnection: () => socket!,
        maxHeaderListPairs: 1024,
        settings: { enablePush: false, maxHeaderListSize: this.#o.maxHeaderBytes },
      });
      const live: LiveSession = { session, generation, serverId: serverId ?? '' };
      this.#all.add(session);
      session.on('error', (e) => this.#o.logger.debug({ dst: this.dst, err: e.message }, 'upstream HTTP/2 session error'));
      session.on('goaway', () => this.#retire(live));
      session.on('close', () => {
        this.#all.delete(session);
        if (this.#live === live) this.#live = null;
      });
      this.#live = live;
      for (const ex of waiting) this.#start(live, ex);
    });
  }

  #retire(live: LiveSession): void {
    if (this.#live === live) this.#live = null;
    if (!live.session.closed && !live.session.destroyed) live.session.close();
  }
}
