import type { Socket } from 'node:net';
import { DEFAULT_MAX_HEADER_COUNT, Http1Error, MessageParser, lastChunk, serializeRequestHead, writeChunk, type MessageSink } from '../http1/index.ts';
import { ForwardError } from './forward-error.ts';
import { DeadlineTimer } from './deadline-timer.ts';
import { describeError } from '../core/index.ts';

/**
 * What an upstream HTTP/1.1 connection needs from the request it carries:
 * the head to send, and where the answer goes. Exchange implements it; the
 * connection calls back through it, so a request costs no closures.
 */
export interface H1UpstreamRequest {
  readonly method: string;
  /** The request-target to send. */
  readonly target: string;
  /** End-to-end request headers (name, value, ...); Content-Length kept, Transfer-Encoding never. */
  readonly headers: readonly string[];
  /** Host value to add when `hasHostHeader` is false (the request came as HTTP/2). */
  readonly authority: string;
  readonly hasHostHeader: boolean;
  /** `websocket` for an upgrade request, '' otherwise. */
  readonly upgrade: string;
  /** A body follows; the request streams it with {@link H1Connection.writeBody} and {@link H1Connection.endBody}. */
  readonly hasBody: boolean;
  /** The head is on the wire: stream the body now (when there is one). */
  h1Started(conn: H1Connection): void;
  /** The response head (informational responses are not passed on). */
  h1Head(status: number, raw: string[], chunked: boolean): void;
  /** A response body chunk; false asks the connection to pause until {@link H1Connection.resume}. */
  h1Body(chunk: Buffer): boolean;
  /** The response is complete; the connection is no longer the request's. */
  h1End(trailers: string[] | null): void;
  /**
   * The request failed; the connection is gone. `retryable`: it failed on a
   * reused connection before any response byte, so an idempotent request
   * without a body may be sent again (RFC 9110 §9.2.2, RFC 9112 §9.3.1).
   */
  h1Failed(err: Error, retryable: boolean): void;
  /** The upstream switched protocols (101): the socket, with any bytes after the head pushed back, is the request's. */
  h1Upgraded(status: number, raw: string[], socket: Socket): void;
  /** The socket drained: body writes may continue. */
  h1Drained(): void;
  /** The connection handled all it had read; a response head held for body bytes of the same read goes out now. */
  h1ReadEnd(): void;
}

/** The pool side of a connection. */
export interface H1ConnectionOwner {
  /** The connection finished its request and may carry another one. */
  connectionIdle(c: H1Connection): void;
  /** The connection is closed (or was handed over after an upgrade); forget it. */
  connectionGone(c: H1Connection): void;
}

/** Settings of the connections of one pool. */
export interface H1ConnectionSettings {
  readonly idleTimeoutMs: number;
  /** Deadline for response headers once the request is sent; 0 = none. */
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

const kConn = Symbol('spiffe-sidecar.h1conn');
type Tagged = { [kConn]?: H1Connection | undefined };

/** Methods whose request has a body by definition: an empty one is sent as `content-length: 0`. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const UPGRADE_LINES = 'connection: upgrade\r\nupgrade: websocket\r\n';
const CHUNKED_LINE = 'transfer-encoding: chunked\r\n';
const EMPTY_BODY_LINE = 'content-length: 0\r\n';
/** Closes an idle connection this long before the server's Keep-Alive timeout, so a request never races the server's close. */
const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * One keep-alive HTTP/1.1 connection to an upstream, on a socket from the
 * pool's dialer (so the server's verified SPIFFE ID is known per
 * connection). It carries one request at a time, never pipelines, parses
 * the response with the strict sidecar/http1 parser and frames the request
 * body itself: as is under a Content-Length, chunked otherwise.
 *
 * A connection is reused only when the response and the request body both
 * ended cleanly and neither side asked to close; a request cut off
 * ({@link abort}) destroys it, so the upstream never sees a truncated
 * request as complete.
 */
export class H1Connection implements MessageSink {
  /** The server's verified SPIFFE ID ('' for plain TCP). */
  serverId = '';
  /** Set when credentials rotated: finish the request in flight, take nothing new. */
  retired = false;
  readonly #owner: H1ConnectionOwner;
  readonly #settings: H1ConnectionSettings;
  readonly #parser: MessageParser;
  #socket: Socket | null = null;
  #req: H1UpstreamRequest | null = null;
  /** Requests this connection finished: above 0, the connection is a reused one. */
  #served = 0;
  #responseStarted = false;
  #responseDone = false;
  #bodyDone = false;
  /** Bytes of a Content-Length body still to send; -1 when the body is chunked. */
  #bodyLeft = -1;
  #upgrading = false;
  #paused = false;
  #gone = false;
  #awaitingHead = false;
  /** The response-head deadline while a request waits for its answer. */
  readonly #headTimer: DeadlineTimer<H1Connection>;
  /** The keep-alive deadline while the connection waits in the pool (a socket timeout would be re-made per request). */
  readonly #idleTimer: DeadlineTimer<H1Connection>;
  #idleMs: number;
  #error: Error | null = null;

  constructor(owner: H1ConnectionOwner, settings: H1ConnectionSettings) {
    this.#owner = owner;
    this.#settings = settings;
    this.#idleMs = settings.idleTimeoutMs;
    this.#headTimer = new DeadlineTimer<H1Connection>(this, onHeadTimeout, true);
    this.#idleTimer = new DeadlineTimer<H1Connection>(this, onIdleTimeout, true);
    this.#parser = new MessageParser('response', this, { maxHeaderBytes: settings.maxHeaderBytes, maxHeaderCount: DEFAULT_MAX_HEADER_COUNT });
  }

  /** True while the connection may take a request (not closed, not closing). */
  get usable(): boolean {
    return !this.#gone && !this.retired && (this.#socket === null || !this.#socket.destroyed);
  }

  /** True once the connection closed or was handed over. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Takes `req` (the connection is idle or still dialling); it is sent once connected. */
  assign(req: H1UpstreamRequest): void {
    this.#req = req;
    this.#responseStarted = false;
    this.#responseDone = false;
    this.#bodyDone = false;
    this.#upgrading = false;
    if (this.#socket !== null) this.#send();
  }

  /** The dial finished: `socket` is connected (and verified), or the dial failed with `err`. */
  dialed(err: Error | null, socket: Socket | undefined, serverId: string | undefined): void {
    const req = this.#req;
    if (err !== null || socket === undefined) {
      if (this.#gone) return;
      this.#gone = true;
      this.#req = null;
      this.#owner.connectionGone(this);
      req?.h1Failed(err ?? new ForwardError('forward.connect_failed', 'upstream connect error'), false);
      return;
    }
    if (this.#gone) {
      // Aborted (or the pool destroyed) while dialling.
      socket.destroy();
      return;
    }
    this.#socket = socket;
    this.serverId = serverId ?? '';
    (socket as Tagged)[kConn] = this;
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    if (req !== null) this.#send();
  }

  /** Writes a request body chunk; false means wait for h1Drained. */
  writeBody(chunk: Buffer): boolean {
    const s = this.#socket;
    if (s === null || this.#req === null || this.#bodyDone) return true;
    if (this.#bodyLeft < 0) return writeChunk(s, chunk);
    if (chunk.length > this.#bodyLeft) {
      this.#failRequest(new ForwardError('forward.cancelled', 'request body longer than its content-length'));
      return true;
    }
    this.#bodyLeft -= chunk.length;
    return s.write(chunk);
  }

  /**
   * The request body is complete: ends a chunked body, with `trailers` (name,
   * value, ...) in its last chunk (RFC 9112 §7.1.2); a Content-Length body
   * must have been sent whole.
   */
  endBody(trailers: readonly string[] | null = null): void {
    const s = this.#socket;
    if (s === null || this.#req === null || this.#bodyDone) return;
    if (this.#bodyLeft > 0) {
      this.#failRequest(new ForwardError('forward.cancelled', 'request body shorter than its content-length'));
      return;
    }
    // A Content-Length body has no place for trailers (RFC 9112 §6.2 ends
    // the message with its last byte): they are dropped, like the trailers
    // of a response relayed with a Content-Length (h1-exchange.ts).
    if (this.#bodyLeft < 0) s.write(lastChunkOrBare(trailers), 'latin1');
    this.#bodyDone = true;
    this.#armHeadTimer();
    if (this.#responseDone) this.#recycle();
  }

  /** Stops reading the response until {@link resume} (downstream backpressure). */
  pause(): void {
    if (this.#paused || this.#socket === null) return;
    this.#paused = true;
    this.#socket.pause();
  }

  /** Reads the response on. */
  resume(): void {
    if (!this.#paused || this.#socket === null) return;
    this.#paused = false;
    this.#socket.resume();
  }

  /** Cuts the request off: the connection is destroyed and the request hears nothing more. */
  abort(): void {
    this.#req = null;
    this.destroy();
  }

  /** Closes the connection now. */
  destroy(): void {
    if (this.#socket !== null) {
      this.#socket.destroy();
      return;
    }
    // Still dialling.
    if (this.#gone) return;
    this.#gone = true;
    this.#owner.connectionGone(this);
    const req = this.#req;
    this.#req = null;
    req?.h1Failed(new ForwardError('forward.closed', 'proxy is shutting down'), false);
  }

  /** Closes the connection if it carries no request (or once it finished). */
  closeWhenIdle(): void {
    this.retired = true;
    if (this.#req === null) this.destroy();
  }

  // ---- MessageSink (the response parser) ----------------------------------

  onHead(): void {
    const req = this.#req;
    this.#awaitingHead = false;
    this.#responseStarted = true;
    const p = this.#parser;
    // The server's Keep-Alive hint, less a margin; a hint too short for the margin means no reuse.
    if (p.keepAliveTimeoutS > 0) {
      const hinted = p.keepAliveTimeoutS * 1000 - KEEP_ALIVE_MARGIN_MS;
      this.#idleMs = hinted <= 0 ? -1 : Math.min(this.#settings.idleTimeoutMs || Infinity, hinted);
    }
    if (p.upgraded) {
      this.#upgrading = true;
      if (req === null || req.upgrade === '') {
        p.stop();
        this.#failRequest(new ForwardError('forward.protocol', 'upstream switched protocols without an upgrade request'));
      }
      return;
    }
    req?.h1Head(p.status, p.raw, p.framing === 'chunked');
  }

  onBody(chunk: Buffer): void {
    const req = this.#req;
    if (req !== null && !req.h1Body(chunk)) this.pause();
  }

  onMessageEnd(trailers: string[] | null): void {
    this.#responseDone = true;
    const req = this.#req;
    if (req === null) return;
    if (this.#bodyDone || !req.hasBody) {
      this.#bodyDone = true;
      this.#recycle();
    } else {
      // Answered before the request body was sent whole: the framing of
      // the rest cannot be trusted to line up, so the connection ends here.
      this.#req = null;
      this.destroy();
    }
    req.h1End(trailers);
  }

  // ---- socket events -------------------------------------------------------

  /** @internal */
  data(chunk: Buffer): void {
    const p = this.#parser;
    let consumed: number;
    try {
      consumed = p.execute(chunk);
    } catch (err) {
      this.#protocolError(err);
      return;
    }
    if (this.#upgrading) {
      if (!p.upgraded) return;
      this.#handOver(chunk.subarray(consumed));
      return;
    }
    if (consumed < chunk.length && !this.#gone) {
      // Bytes after the response, or a response nobody asked for.
      this.#protocolError(new Http1Error('http1.bad_status_line', 'upstream sent data after its response'));
      return;
    }
    this.#req?.h1ReadEnd();
  }

  /** @internal The server closed its side. */
  ended(): void {
    try {
      this.#parser.finish();
    } catch (err) {
      this.#protocolError(err);
      return;
    }
    this.#socket?.destroy();
  }

  /** @internal */
  errored(err: Error): void {
    this.#error ??= err;
  }

  /** @internal */
  closed(): void {
    this.#headTimer.clear();
    this.#idleTimer.clear();
    if (this.#gone) return;
    this.#gone = true;
    this.#owner.connectionGone(this);
    const req = this.#req;
    if (req === null) return;
    this.#req = null;
    const retryable = this.#served > 0 && !this.#responseStarted;
    req.h1Failed(this.#error ?? new ForwardError('forward.upstream_reset', 'upstream closed the connection before the response ended'), retryable);
  }

  /** @internal */
  drained(): void {
    this.#req?.h1Drained();
  }

  /** @internal The keep-alive timer of an idle connection. */
  idleTimedOut(): void {
    if (this.#req === null) this.#socket?.destroy();
  }

  /** @internal */
  headTimedOut(): void {
    if (!this.#awaitingHead || this.#req === null) return;
    this.#failRequest(new ForwardError('forward.timeout', `upstream timeout: no response headers within ${this.#settings.requestTimeoutMs}ms`));
  }

  // ---- internals -------------------------------------------------------------

  #send(): void {
    const req = this.#req!;
    const s = this.#socket!;
    this.#idleTimer.disarm();
    const p = this.#parser;
    p.noBody = req.method === 'HEAD';
    let head: string;
    try {
      const headers = req.hasHostHeader || req.authority === '' ? req.headers : req.headers.concat('host', req.authority);
      let extra = '';
      if (req.upgrade !== '') extra = UPGRADE_LINES;
      this.#bodyLeft = -1;
      const cl = contentLengthOf(req.headers);
      if (req.hasBody) {
        if (cl >= 0) this.#bodyLeft = cl;
        else extra += CHUNKED_LINE;
      } else if (cl < 0 && PAYLOAD_METHODS.has(req.method)) {
        extra += EMPTY_BODY_LINE;
      }
      head = serializeRequestHead(req.method, req.target, headers, extra);
    } catch (err) {
      // Nothing was written: the connection stays good for the next request.
      this.#req = null;
      this.#owner.connectionIdle(this);
      req.h1Failed(err as Error, false);
      return;
    }
    if (req.hasBody) {
      // Corked to the end of this tick: body bytes already buffered leave with the head.
      s.cork();
      s.write(head, 'latin1');
      process.nextTick(uncork, s);
    } else {
      s.write(head, 'latin1');
    }
    if (!req.hasBody) {
      this.#bodyDone = true;
      this.#armHeadTimer();
    }
    req.h1Started(this);
  }

  #armHeadTimer(): void {
    const ms = this.#settings.requestTimeoutMs;
    if (ms <= 0 || this.#responseStarted) return;
    this.#awaitingHead = true;
    this.#headTimer.arm(ms);
  }

  /** The request and response both ended: back to the pool, or closed when either side said so. */
  #recycle(): void {
    this.#req = null;
    this.#served++;
    this.#awaitingHead = false;
    this.#headTimer.disarm();
    const s = this.#socket;
    if (s === null || this.#gone) return;
    if (!this.#parser.keepAlive || this.#upgrading || this.retired || this.#idleMs < 0) {
      s.destroy();
      return;
    }
    if (this.#paused) {
      this.#paused = false;
      s.resume();
    }
    if (this.#idleMs > 0) this.#idleTimer.arm(this.#idleMs);
    this.#owner.connectionIdle(this);
  }

  #failRequest(err: Error): void {
    const req = this.#req;
    this.#req = null;
    this.destroy();
    req?.h1Failed(err, false);
  }

  #protocolError(err: unknown): void {
    this.#parser.stop();
    const why = describeError(err);
    this.#failRequest(new ForwardError('forward.protocol', `upstream sent an invalid HTTP/1.1 response: ${why}`, { cause: err }));
  }

  #handOver(rest: Buffer): void {
    const s = this.#socket!;
    const req = this.#req;
    this.#req = null;
    this.#gone = true;
    s.pause();
    s.removeListener('data', onData);
    s.removeListener('end', onEnd);
    s.removeListener('error', onError);
    s.removeListener('close', onClose);
    s.removeListener('drain', onDrain);
    (s as Tagged)[kConn] = undefined;
    this.#headTimer.clear();
    this.#idleTimer.clear();
    this.#owner.connectionGone(this);
    if (rest.length > 0) s.unshift(rest);
    if (req === null) {
      s.destroy();
      return;
    }
    req.h1Upgraded(101, this.#parser.raw, s);
  }
}

/** The Content-Length value among `headers`, or -1 when there is none. */
function contentLengthOf(headers: readonly string[]): number {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const n = Number(headers[i + 1]);
      return Number.isSafeInteger(n) && n >= 0 ? n : -1;
    }
  }
  return -1;
}

/** The last chunk with `trailers`, or without them when one cannot be serialized (never a broken request). */
function lastChunkOrBare(trailers: readonly string[] | null): string {
  if (trailers === null || trailers.length === 0) return lastChunk(null);
  try {
    return lastChunk(trailers);
  } catch {
    return lastChunk(null);
  }
}

function uncork(s: Socket): void {
  s.uncork();
}
function connOf(s: Socket): H1Connection {
  return (s as Tagged)[kConn]!;
}
function onData(this: Socket, chunk: Buffer): void {
  connOf(this).data(chunk);
}
function onEnd(this: Socket): void {
  connOf(this).ended();
}
function onError(this: Socket, err: Error): void {
  connOf(this).errored(err);
}
function onClose(this: Socket): void {
  connOf(this).closed();
}
function onDrain(this: Socket): void {
  connOf(this).drained();
}
function onIdleTimeout(c: H1Connection): void {
  c.idleTimedOut();
}
function onHeadTimeout(c: H1Connection): void {
  c.headTimedOut();
}
