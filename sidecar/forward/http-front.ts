import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Clock, Logger, TimerHandle } from '../core/index.ts';
import type { Direction, OverflowLimit, ProxyMetrics } from '../metrics/index.ts';
import type { ConnInfo, ConnLoad, Exchange } from './exchange.ts';
import type { FrontPort, H2SessionState } from './front-port.ts';
import type { MessageParser } from '../http1/index.ts';
import type { ExchangeTracer } from './exchange-tracer.ts';
import { H1Downstream, type H1DownstreamOwner, type H1DownstreamRequest } from './h1-downstream.ts';
import { H1Exchange } from './h1-exchange.ts';
import { H2Exchange } from './h2-exchange.ts';
import { DEFAULT_STRIPPED_REQUEST_HEADERS, HeaderNameSet } from './header-name-set.ts';
import { describeError, UPSTREAM_BUDGET_DEFAULTS, type ProxyLimits } from '../core/index.ts';
import { UpgradeExchange } from './upgrade-exchange.ts';
import { UploadWatch } from './upload-watch.ts';
import { FORWARD_ANSWERS, type AnswerRow } from './forward-answer.ts';

/** Options of {@link HttpFront}. */
export interface HttpFrontOptions {
  readonly direction: Direction;
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** Log one JSON line per request at info. */
  readonly accessLog: boolean;
  readonly clock: Clock;
  /** Decides each request: `ex.answer(row)` (a local answer) or `ex.forwardTo(upstream)`. Must not throw. */
  readonly route: (ex: Exchange) => void;
  /**
   * Request headers removed before the route sees the request (any case).
   * Default: {@link DEFAULT_STRIPPED_REQUEST_HEADERS} inbound (the
   * method-override and original-URL headers), none outbound.
   */
  readonly stripRequestHeaders?: readonly string[] | undefined;
  /** Starts and ends a span per request (sidecar/tracing); null or absent when tracing is off. */
  readonly tracer?: ExchangeTracer | null | undefined;
  /** Gets every finished request (the audit log, sidecar/audit); null or absent when auditing is off. */
  readonly audit?: RequestAuditSink | null | undefined;
}

/**
 * Where HttpFront reports each finished request for the audit log. Exchange
 * is passed as is: the sink reads its fields and must not keep it or throw.
 */
export interface RequestAuditSink {
  requestDone(ex: Exchange, direction: Direction, seconds: number): void;
}

export type { H2SessionState } from './front-port.ts';

/** Per-socket bookkeeping for an HTTP/1.1 downstream connection. */
interface H1ConnState extends ConnLoad {
  readonly conn: ConnInfo;
}

const kConn = Symbol('spiffe-sidecar.conn');
const kSession = Symbol('spiffe-sidecar.h2session');
type WithConn = { [kConn]?: H1ConnState };
type WithSession = { [kSession]?: H2SessionState };

/**
 * The HTTP side of a listener: HTTP/1.1 connections served by our own
 * parser (H1Downstream, sidecar/http1) and an internal node:http2 server
 * that never listens itself; the listener (TLS for inbound, plain TCP for
 * outbound) hands each accepted, already verified socket to
 * {@link acceptH1} or {@link acceptH2}. It applies the limits, turns
 * requests into Exchanges for the route, tracks connections and in-flight
 * requests, and drains.
 */
export class HttpFront implements FrontPort<Exchange>, H1DownstreamOwner {
  readonly direction: Direction;
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly accessLog: boolean;
  /** True once {@link drain} started: responses close their HTTP/1.1 connection. */
  draining = false;
  /** Request headers every request loses before the route sees it; null when none. */
  readonly droppedRequestHeaders: HeaderNameSet | null;
  /** @internal Request bodies in flight upstream, cut off when they stall or crawl. */
  readonly uploads: UploadWatch;
  /** The request tracer; null when tracing is off (the whole cost then is this check). */
  readonly tracer: ExchangeTracer | null;
  readonly #audit: RequestAuditSink | null;
  readonly #maxPerConnection: number;
  readonly #maxPerCaller: number;
  /** Requests holding upstream capacity, by caller (peer SPIFFE ID inbound, '' for the local app). */
  readonly #perCaller = new Map<string, number>();
  /** HTTP/2 requests waiting for the end of the current I/O turn (see #onStream). */
  #deferred: H2Exchange[] = [];
  #flushScheduled = false;
  readonly #clock: Clock;
  readonly #route: (ex: Exchange) => void;
  readonly #h2: http2.Http2Server;
  readonly #sockets = new Set<Socket>();
  /** HTTP/1.1 connections still parsed by us (not handed over after an upgrade). */
  readonly #downs = new Set<H1Downstream>();
  /** @internal H1DownstreamOwner: limits of each HTTP/1.1 connection. */
  readonly idleTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxPipelined: number;
  readonly #sessions = new Set<ServerHttp2Session>();
  #pendingConn: ConnInfo | undefined;
  #inflight = 0;
  #onSettled: (() => void) | null = null;
  #sweepScheduled = false;

  constructor(o: HttpFrontOptions) {
    this.direction = o.direction;
    this.limits = o.limits;
    this.metrics = o.metrics;
    this.logger = o.logger;
    this.accessLog = o.accessLog;
    this.#clock = o.clock;
    this.#route = o.route;
    this.tracer = o.tracer ?? null;
    this.#audit = o.audit ?? null;
    const l = o.limits;
    const d = UPSTREAM_BUDGET_DEFAULTS;
    this.#maxPerConnection = l.maxConcurrentRequestsPerConnection ?? d.maxConcurrentRequestsPerConnection;
    this.#maxPerCaller = l.maxConcurrentRequestsPerCaller ?? d.maxConcurrentRequestsPerCaller;
    this.uploads = new UploadWatch(o.clock, l.requestBodyIdleTimeoutMs ?? d.requestBodyIdleTimeoutMs, l.minUploadBytesPerSecond ?? d.minUploadBytesPerSecond);
    const strip = o.stripRequestHeaders ?? (o.direction === 'inbound' ? DEFAULT_STRIPPED_REQUEST_HEADERS : []);
    this.droppedRequestHeaders = strip.length > 0 ? new HeaderNameSet(strip) : null;

    this.idleTimeoutMs = l.idleTimeoutMs;
    this.headersTimeoutMs = l.headersTimeoutMs;
    this.maxHeaderBytes = l.maxHeaderBytes;
    // Pipelined requests beyond the upstream budget are answered 503 in
    // order; past twice the budget the connection stops reading until
    // responses went out, so a pipelining client cannot queue without bound.
    this.maxPipelined = 2 * this.#maxPerConnection;

    this.#h2 = http2.createServer({
      maxHeaderListPairs: 1024,
      // Streams beyond the upstream budget of a connection could only be
      // answered 503, so the client is told the budget up front (RFC 9113
      // §6.5.2) and nghttp2 refuses more with REFUSED_STREAM, which clients retry.
      settings: { enablePush: false, maxConcurrentStreams: this.#maxPerConnection, maxHeaderListSize: l.maxHeaderBytes },
    });
    this.#h2.on('session', (session: ServerHttp2Session) => this.#onSession(session));
    this.#h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) =>
      this.#onStream(stream, headers, raw),
    );
    this.#h2.on('sessionError', (err: Error) => this.logger.debug({ err: err.message }, 'HTTP/2 session error'));
  }

  /** Serves HTTP/1.1 on an accepted socket. */
  acceptH1(socket: Socket, conn: ConnInfo): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    (socket as WithConn)[kConn] = { conn, active: 0 };
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#settle();
    });
    socket.setNoDelay(true);
    this.#downs.add(new H1Downstream(this, socket));
  }

  /** Serves HTTP/2 (h2 after ALPN, or h2c with prior knowledge) on an accepted socket. */
  acceptH2(socket: Socket, conn: ConnInfo): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    // node:http2 creates the session and emits 'session' synchronously
    // inside this emit, so the pending value reaches exactly this session.
    this.#pendingConn = conn;
    try {
      this.#h2.emit('connection', socket);
    } finally {
      this.#pendingConn = undefined;
    }
  }

  /** Requests started and not yet finished. */
  activeRequests(): number {
    return this.#inflight;
  }

  /** Open downstream connections (HTTP/1.1 sockets plus HTTP/2 sessions). */
  connections(): number {
    return this.#sockets.size + this.#sessions.size;
  }

  /**
   * Lets in-flight requests finish: HTTP/1.1 responses carry
   * `Connection: close` and idle connections are closed; HTTP/2 sessions get
   * GOAWAY and close after their last stream. At the deadline everything
   * left is destroyed; resolves with the number of requests cut off.
   */
  drain(deadlineMs: number): Promise<{ abandoned: number }> {
    this.draining = true;
    for (const s of this.#sessions) if (!s.closed) s.close();
    for (const d of this.#downs) d.closeIfIdle();
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      let done = false;
      const finish = (abandoned: number): void => {
        if (done) return;
        done = true;
        timer?.cancel();
        this.#onSettled = null;
        resolve({ abandoned });
      };
      this.#onSettled = () => {
        if (this.#inflight === 0 && this.connections() === 0) finish(0);
      };
      timer = this.#clock.setTimeout(() => {
        const abandoned = this.#inflight;
        this.destroy();
        finish(abandoned);
      }, deadlineMs);
      this.#onSettled();
    });
  }

  /** Destroys every connection now. */
  destroy(): void {
    this.draining = true;
    this.uploads.clear();
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#sessions) s.destroy();
  }

  /** @internal Counted by each Exchange on creation. */
  requestStarted(): void {
    this.#inflight++;
  }

  /**
   * @internal Takes one unit of the upstream budget for `ex`: its
   * connection's and its caller's (the peer's SPIFFE ID; the local app is
   * one caller). Returns which cap is full instead, and takes nothing.
   * Paired with {@link release} when the request is over.
   */
  admit(ex: Exchange): OverflowLimit | null {
    if (ex.load.active >= this.#maxPerConnection) return 'connection';
    const caller = ex.conn.peerId;
    const n = this.#perCaller.get(caller) ?? 0;
    if (n >= this.#maxPerCaller) return 'caller';
    this.#perCaller.set(caller, n + 1);
    ex.load.active++;
    return null;
  }

  /** @internal Returns what {@link admit} took. */
  release(ex: Exchange): void {
    ex.load.active--;
    const caller = ex.conn.peerId;
    const n = (this.#perCaller.get(caller) ?? 1) - 1;
    // Deleted at zero, so the map holds only callers with requests in flight.
    if (n <= 0) this.#perCaller.delete(caller);
    else this.#perCaller.set(caller, n);
  }

  /** @internal Metrics, access log and drain accounting for a finished request. */
  requestDone(ex: Exchange, seconds: number): void {
    this.#inflight--;
    if (this.tracer !== null) this.tracer.end(ex);
    const peer = this.direction === 'inbound' ? ex.conn.peerId : ex.serverId;
    this.metrics.requestDone(this.direction, ex.method, ex.status, peer, seconds);
    if (this.#audit !== null) this.#audit.requestDone(ex, this.direction, seconds);
    if (this.accessLog) {
      const q = ex.path.indexOf('?');
      // The query is left out: it is where tokens and keys end up in URLs.
      this.logger.info(
        {
          peer_id: peer,
          dst: ex.dst,
          method: ex.method,
          path: q === -1 ? ex.path : ex.path.slice(0, q),
          code: ex.status,
          decision: ex.decision,
          rule: ex.rule,
          reason: ex.reason,
          subject: ex.subject,
          client_id: ex.clientId,
          duration_ms: Math.round(seconds * 1e6) / 1e3,
        },
        'request',
      );
    }
    this.#settle();
  }

  /** @internal An upstream failure, logged once (security-relevant ones at warn). */
  upstreamError(ex: Exchange, answer: AnswerRow, err: unknown): void {
    const fields = { dst: ex.dst, method: ex.method, reason: answer.reason, err: describeError(err) };
    // The level is the answer map's (forward-answer.ts): an upstream that is not who it must be is worth a warning.
    this.logger[answer.level](fields, answer.level === 'debug' ? 'upstream failed' : 'upstream refused');
  }

  #settle(): void {
    if (!this.draining) return;
    // After the connection finished its own bookkeeping for the response,
    // so it counts as idle when swept.
    if (!this.#sweepScheduled) {
      this.#sweepScheduled = true;
      setImmediate(() => {
        this.#sweepScheduled = false;
        for (const d of this.#downs) d.closeIfIdle();
        this.#onSettled?.();
      });
    }
    this.#onSettled?.();
  }

  /** @internal H1DownstreamOwner: a request head arrived on `d`. */
  h1Request(d: H1Downstream, p: MessageParser): H1DownstreamRequest | null {
    const state = (d.socket as WithConn)[kConn];
    if (state === undefined) {
      d.destroy();
      return null;
    }
    if (p.method === 'CONNECT') {
      // Not a forward proxy (outbound) nor a tunnel endpoint (inbound).
      d.answerAndClose(FORWARD_ANSWERS.connect_refused);
      return null;
    }
    return new H1Exchange(this, state.conn, state, d, p);
  }

  /** @internal H1DownstreamOwner: routes a queued HTTP/1.1 request. */
  h1Dispatch(req: H1DownstreamRequest): void {
    this.#dispatch(req as H1Exchange);
  }

  /** @internal H1DownstreamOwner: a WebSocket request takes the socket over. */
  h1Upgrade(d: H1Downstream, p: MessageParser, socket: Socket, head: Buffer): void {
    this.#downs.delete(d);
    const state = (socket as WithConn)[kConn];
    if (state === undefined || p.method === 'CONNECT') {
      socket.destroy();
      return;
    }
    this.#dispatch(new UpgradeExchange(this, state.conn, state, p, socket, head));
  }

  /** @internal H1DownstreamOwner: an HTTP/1.1 connection closed. */
  h1Closed(d: H1Downstream): void {
    this.#downs.delete(d);
  }

  #onSession(session: ServerHttp2Session): void {
    const conn = this.#pendingConn;
    if (conn === undefined) {
      session.destroy();
      return;
    }
    const state: H2SessionState = { conn, streams: 0, active: 0 };
    (session as WithSession)[kSession] = state;
    this.#sessions.add(session);
    session.on('error', (err) => this.logger.debug({ err: err.message }, 'HTTP/2 session error'));
    session.setTimeout(this.limits.idleTimeoutMs, () => {
      if (state.streams === 0) session.close();
    });
    session.once('close', () => {
      this.#sessions.delete(session);
      this.#settle();
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]): void {
    const state = (stream.session as WithSession | undefined)?.[kSession];
    if (state === undefined) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const ex = new H2Exchange(this, state.conn, state, stream, headers, raw);
    // node:http2 does not enforce its own header-list limit on what it
    // receives, so the listener's limit is checked here.
    if (ex.headerBytes > this.limits.maxHeaderBytes) {
      ex.answer(FORWARD_ANSWERS.header_too_large);
      return;
    }
    if (ex.method === 'CONNECT') {
      ex.answer(FORWARD_ANSWERS.connect_refused);
      return;
    }
    // Why not route now: node:http2 emits 'stream' for a HEADERS frame
    // before it has read the frames after it, so a RST_STREAM in the same
    // read (rapid reset, CVE-2023-44487) is seen only later in this I/O
    // turn. Routing at the end of the turn lets a stream reset by then cost
    // nothing upstream: it is never dispatched.
    this.#deferred.push(ex);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(flushDeferred, this);
    }
  }

  /** @internal Routes the HTTP/2 requests of the last I/O turn whose streams are still open. */
  flushDeferred(): void {
    const list = this.#deferred;
    this.#deferred = [];
    this.#flushScheduled = false;
    for (const ex of list) {
      if (ex.resetByClient) {
        this.metrics.streamResetBeforeUpstream(this.direction);
        continue;
      }
      this.#dispatch(ex);
    }
  }

  #dispatch(ex: Exchange): void {
    try {
      if (this.tracer !== null) this.tracer.start(ex);
      this.#route(ex);
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'route failed');
      ex.answer(FORWARD_ANSWERS.internal);
    }
  }
}

function flushDeferred(front: HttpFront): void {
  front.flushDeferred();
}
