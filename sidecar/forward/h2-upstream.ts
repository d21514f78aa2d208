import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '../core/index.ts';
import type { Dialer } from './dialer.ts';
import type { Exchange } from './exchange.ts';
import { ForwardError } from './forward-error.ts';
import { H2_CLIENT_SESSION_SETTINGS } from './h2-session-settings.ts';
import { H2StreamRelay, h2RequestHead } from './h2-stream-relay.ts';
import type { UpstreamPool } from './upstream.ts';

/** Options of {@link H2Upstream}. */
export interface H2UpstreamOptions {
  readonly dialer: Dialer;
  /** `https` towards a peer sidecar (mTLS), `http` towards an h2c app. */
  readonly scheme: 'http' | 'https';
  /** Name for logs and the access log's `dst`. */
  readonly dst: string;
  readonly maxHeaderBytes: number;
  readonly logger: Logger;
  /** How long a new session's first requests wait for the peer's SETTINGS; default H2_CLIENT_SESSION_SETTINGS.settingsWaitMs. */
  readonly settingsWaitMs?: number | undefined;
}

/** One client session and what the upstream knows about it. */
class LiveSession {
  readonly owner: H2Upstream;
  readonly session: ClientHttp2Session;
  readonly serverId: string;
  /**
   * Requests that arrived before the peer's first SETTINGS frame. Until
   * then nghttp2 assumes the peer allows 100 concurrent streams, and a
   * peer announcing fewer would refuse the rest (RFC 9113 §5.1.2), so the
   * first requests of a session wait one round trip for the real limit.
   */
  pending: Exchange[] | null = [];
  /** Bounds the wait for that SETTINGS frame. */
  settingsTimer: NodeJS.Timeout | null = null;

  constructor(owner: H2Upstream, session: ClientHttp2Session, serverId: string) {
    this.owner = owner;
    this.session = session;
    this.serverId = serverId;
  }
}

/** Request options, shared: node only reads them. */
const NO_BODY = Object.freeze({ endStream: true });
const BODY_ONLY = Object.freeze({ endStream: false });
const BODY_AND_TRAILERS = Object.freeze({ endStream: false, waitForTrailers: true });

const kLive = Symbol('spiffe-sidecar.h2live');
type WithLive = { [kLive]?: LiveSession };

function liveOf(session: ClientHttp2Session): LiveSession {
  return (session as WithLive)[kLive]!;
}

/**
 * One multiplexed HTTP/2 session per upstream. Requests open streams on the
 * current session; while it is being dialled, and until the peer's
 * SETTINGS arrive, they wait in a queue. Streams beyond the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS wait in nghttp2 for a free slot (never
 * refused by the peer). GOAWAY, close or error retire the session (its
 * streams finish, new ones go to a fresh session), and so does a
 * credential rotation, when the dialer announces it
 * (Dialer.onCredentialsChange): the old session gets a graceful close and
 * the next request dials with the new SVID.
 *
 * Listeners are shared functions (the session is tagged with its owner),
 * so a request adds no closure here; each stream gets an H2StreamRelay
 * (h2-stream-relay.ts), the one object a request adds.
 */
export class H2Upstream implements UpstreamPool {
  readonly dst: string;
  readonly #o: H2UpstreamOptions;
  readonly #url: string;
  readonly #settingsWaitMs: number;
  #live: LiveSession | null = null;
  #dialing = false;
  /** Our credentials changed while a dial was under way: its socket presents the old ones. */
  #dialStale = false;
  #waiting: Exchange[] = [];
  #closed = false;
  readonly #all = new Set<ClientHttp2Session>();

  constructor(o: H2UpstreamOptions) {
    this.#o = o;
    this.dst = o.dst;
    this.#url = `${o.scheme}://${o.dialer.target}`;
    this.#settingsWaitMs = o.settingsWaitMs ?? H2_CLIENT_SESSION_SETTINGS.settingsWaitMs;
    // One subscription per upstream, for its lifetime (the dialer is this upstream's alone).
    o.dialer.onCredentialsChange(() => this.#credentialsChanged());
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
    const current = this.#live;
    if (current === null) {
      this.#waiting.push(ex);
      this.#dial();
    } else if (current.pending !== null) {
      current.pending.push(ex);
    } else {
      this.#start(current, ex);
    }
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

  /** @internal The peer's first SETTINGS arrived: its stream limit is known, the queued requests go out. */
  settingsKnown(live: LiveSession): void {
    if (live.settingsTimer !== null) {
      clearTimeout(live.settingsTimer);
      live.settingsTimer = null;
    }
    const pending = live.pending;
    if (pending === null) return;
    live.pending = null;
    for (const ex of pending) this.#start(live, ex);
  }

  /** @internal The peer sent no SETTINGS in time (RFC 9113 §3.4 makes it its first frame): not an HTTP/2 server. */
  settingsMissing(live: LiveSession): void {
    live.settingsTimer = null;
    if (this.#live === live) this.#live = null;
    this.#failPending(live, new ForwardError('forward.protocol', `upstream ${this.dst} sent no HTTP/2 SETTINGS within ${this.#settingsWaitMs}ms`));
    live.session.destroy();
  }

  /** @internal The session ended: fail what still waited on it, forget it. */
  sessionClosed(live: LiveSession): void {
    if (live.settingsTimer !== null) {
      clearTimeout(live.settingsTimer);
      live.settingsTimer = null;
    }
    this.#all.delete(live.session);
    if (this.#live === live) this.#live = null;
    this.#failPending(live, new ForwardError('forward.upstream_reset', `HTTP/2 session to ${this.dst} closed before it was ready`));
  }

  /** @internal The peer sent GOAWAY: no new streams on this session, and none for requests still waiting on it. */
  retire(live: LiveSession): void {
    this.#retire(live, false);
  }

  /** @internal */
  sessionError(err: Error): void {
    this.#o.logger.debug({ dst: this.dst, err: err.message }, 'upstream HTTP/2 session error');
  }

  #start(live: LiveSession, ex: Exchange): void {
    if (ex.clientGone) return;
    // Trailers can follow the body only while the body is still arriving.
    const trailers = ex.hasBody && ex.requestTrailersPossible();
    let stream: ClientHttp2Stream;
    try {
      stream = live.session.request(h2RequestHead(ex, this.#o.scheme, this.#o.dialer.target), !ex.hasBody ? NO_BODY : trailers ? BODY_AND_TRAILERS : BODY_ONLY);
    } catch (err) {
      // The session went away between our check and the request.
      this.#retire(live, false);
      ex.upstreamFailed(err);
      return;
    }
    ex.h2Started(new H2StreamRelay(ex, stream, live.serverId, ex.front.limits.requestTimeoutMs, trailers));
  }

  #dial(): void {
    if (this.#dialing) return;
    this.#dialing = true;
    this.#dialStale = false;
    this.#o.dialer.dial((err, socket, serverId) => {
      this.#dialing = false;
      if (!err && !this.#closed && this.#dialStale) {
        // Made with the credentials of before a rotation: dial again for the waiting requests.
        socket!.destroy();
        this.#dial();
        return;
      }
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
      this.#open(socket!, serverId ?? '', waiting);
    });
    // A change announced inside dial() (a dialer re-reading its sources) is already in the socket it makes.
    this.#dialStale = false;
  }

  /** Starts the live session on a dialled socket; `waiting` go out once the peer's first SETTINGS arrive. */
  #open(socket: Socket, serverId: string, waiting: Exchange[]): void {
    const session = http2.connect(this.#url, {
      createConnection: () => socket,
      maxHeaderListPairs: 1024,
      maxSessionMemory: H2_CLIENT_SESSION_SETTINGS.maxSessionMemoryMiB,
      settings: {
        enablePush: false,
        maxHeaderListSize: this.#o.maxHeaderBytes,
        initialWindowSize: H2_CLIENT_SESSION_SETTINGS.initialWindowSize,
      },
    });
    const live = new LiveSession(this, session, serverId);
    (session as WithLive)[kLive] = live;
    live.pending = waiting;
    this.#all.add(session);
    this.#live = live;
    session.on('error', onSessionError);
    session.on('goaway', onSessionGoaway);
    session.on('close', onSessionClose);
    session.once('remoteSettings', onFirstRemoteSettings);
    live.settingsTimer = setTimeout(onSettingsTimeout, this.#settingsWaitMs, live).unref();
  }

  /** Our credentials changed: the live session takes no new streams; a dial under way is made again. */
  #credentialsChanged(): void {
    if (this.#dialing) this.#dialStale = true;
    const live = this.#live;
    if (live !== null) this.#retire(live, true);
  }

  /**
   * No new streams on `live`. Requests still waiting for its first SETTINGS
   * go to the next session after a credential change (`requeue`); after a
   * GOAWAY or a failure they fail, so a peer that refuses every session
   * cannot keep them dialling.
   */
  #retire(live: LiveSession, requeue: boolean): void {
    if (this.#live === live) this.#live = null;
    const pending = live.pending;
    live.pending = null;
    if (live.settingsTimer !== null) {
      clearTimeout(live.settingsTimer);
      live.settingsTimer = null;
    }
    // After a rotation the GOAWAY waits one turn of the event loop: streams
    // opened just before it still have their HEADERS queued in nghttp2,
    // which would refuse them once GOAWAY is out (a refused stream without
    // a body is resent, exchange.ts; one with a body cannot be).
    if (requeue) setImmediate(closeSession, live.session);
    else closeSession(live.session);
    if (pending === null || pending.length === 0) return;
    if (requeue) {
      for (const ex of pending) this.forward(ex);
    } else {
      const err = new ForwardError('forward.upstream_reset', `HTTP/2 session to ${this.dst} went away before it was ready`);
      for (const ex of pending) ex.upstreamFailed(err);
    }
  }

  #failPending(live: LiveSession, err: Error): void {
    const pending = live.pending;
    live.pending = null;
    if (pending !== null) for (const ex of pending) ex.upstreamFailed(err);
  }
}

function closeSession(session: ClientHttp2Session): void {
  if (!session.closed && !session.destroyed) session.close();
}

function onSessionError(this: ClientHttp2Session, err: Error): void {
  liveOf(this).owner.sessionError(err);
}

function onSessionGoaway(this: ClientHttp2Session): void {
  const live = liveOf(this);
  live.owner.retire(live);
}

function onSessionClose(this: ClientHttp2Session): void {
  const live = liveOf(this);
  live.owner.sessionClosed(live);
}

function onFirstRemoteSettings(this: ClientHttp2Session): void {
  const live = liveOf(this);
  live.owner.settingsKnown(live);
}

function onSettingsTimeout(live: LiveSession): void {
  live.owner.settingsMissing(live);
}
