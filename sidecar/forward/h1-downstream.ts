import type { Socket } from 'node:net';
import { DEFAULT_MAX_HEADER_COUNT, Http1Error, MessageParser, serializeResponseHead, writeChunk, type MessageSink } from '../http1/index.ts';
import { isWebSocketUpgrade } from './hop-by-hop.ts';
import { FORWARD_ANSWERS, type AnswerRow } from './forward-answer.ts';
import { localBody } from './local-body.ts';
import { DeadlineTimer } from './deadline-timer.ts';

/**
 * One request of an {@link H1Downstream} connection, as the connection sees
 * it (H1Exchange implements it). The `h1Out` field is the connection's: the
 * response bytes held while earlier responses on the connection are still
 * being written (responses go out in request order, RFC 9112 §9.3.2).
 */
export interface H1DownstreamRequest {
  h1Out: (Buffer | string)[] | null;
  /** The response is complete (written or held in h1Out); the connection's field. */
  h1Done: boolean;
  /** A piece of the request body. */
  h1RequestBody(chunk: Buffer): void;
  /** The request body ended complete; `trailers` (name, value, ...) when a chunked body had a trailer section. */
  h1RequestEnd(trailers: string[] | null): void;
  /** The connection closed or broke before this request's response went out whole. */
  h1ConnectionLost(): void;
  /** The response may be written on (its turn came, or the socket drained). */
  h1Writable(): void;
}

/** The listener side of an {@link H1Downstream} (HttpFront implements it). */
export interface H1DownstreamOwner {
  readonly draining: boolean;
  readonly idleTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly maxHeaderBytes: number;
  /** Requests one connection may have in progress before the connection stops reading (pipelining bound). */
  readonly maxPipelined: number;
  /** A request head arrived: make its request (not dispatched yet). null: answered already (the connection closes). */
  h1Request(d: H1Downstream, p: MessageParser): H1DownstreamRequest | null;
  /** Routes a request made by h1Request, once the connection queued it. */
  h1Dispatch(req: H1DownstreamRequest): void;
  /** A WebSocket request head arrived: the socket and the bytes after the head are the owner's now. */
  h1Upgrade(d: H1Downstream, p: MessageParser, socket: Socket, head: Buffer): void;
  /** The connection closed. */
  h1Closed(d: H1Downstream): void;
}

const kDown = Symbol('spiffe-sidecar.h1down');
type Tagged = { [kDown]?: H1Downstream | undefined };

const NO_TIMER = 0;
const HEAD_TIMER = 1;
const IDLE_TIMER = 2;
const CRLF = '\r\n';
/**
 * Below this, a held head and the first body chunk are copied into one
 * buffer (Buffer.allocUnsafe takes it from Node's shared pool up to 4 KiB);
 * larger ones leave corked, as two buffers of one writev.
 */
const JOIN_MAX = 4096;

/**
 * An HTTP/1.1 connection from a client, served with the sidecar/http1
 * parser: keep-alive, pipelined requests dispatched in order with their
 * responses written in order (a later response waits, buffered, behind an
 * earlier one; the connection stops reading at `maxPipelined` requests in
 * progress), a head timeout (408) and an idle timeout between requests.
 * A request head the parser refuses is answered with the error's status
 * (400, 417, 431, 501, 505) and the connection closed.
 */
export class H1Downstream implements MessageSink {
  readonly socket: Socket;
  readonly #owner: H1DownstreamOwner;
  readonly #parser: MessageParser;
  /** Requests whose response is not written whole yet, in arrival order. */
  readonly #queue: H1DownstreamRequest[] = [];
  /** The request whose body the parser is reading. */
  #reading: H1DownstreamRequest | null = null;
  /** Bytes read past a complete request while reading is paused. */
  #stash: Buffer | null = null;
  #readPaused = false;
  #bodyPaused = false;
  /** The current response's head, held by writeHead until body bytes or the end join it. */
  #head: string | null = null;
  /** Close once the queue is written (Connection: close, draining, a broken request). */
  #closeAfter = false;
  /** The socket was ended (or is being answered and ended): nothing more is read. */
  #ending = false;
  #closed = false;
  #timerKind = NO_TIMER;
  /** The head or idle timeout, whichever #timerKind names. */
  readonly #timer: DeadlineTimer<H1Downstream>;

  constructor(owner: H1DownstreamOwner, socket: Socket) {
    this.#owner = owner;
    this.socket = socket;
    this.#parser = new MessageParser('request', this, { maxHeaderBytes: owner.maxHeaderBytes, maxHeaderCount: DEFAULT_MAX_HEADER_COUNT });
    this.#timer = new DeadlineTimer<H1Downstream>(this, onTimer, false);
    (socket as Tagged)[kDown] = this;
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', noop);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    this.#setTimer(HEAD_TIMER);
  }

  /** True when no request is in progress and none has started arriving: safe to close. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#parser.idle && this.#stash === null;
  }

  /** The parsed fields of the request being read (valid inside h1Request). */
  get parser(): MessageParser {
    return this.#parser;
  }

  /** Closes the connection if it is idle (drain). */
  closeIfIdle(): void {
    if (this.idle) this.socket.destroy();
    else this.#closeAfter = true;
  }

  // ---- writing responses, in request order ------------------------------

  /** Writes (or holds) response bytes of `req`; false means wait for h1Writable. */
  write(req: H1DownstreamRequest, data: Buffer | string): boolean {
    if (this.#closed) return true;
    if (this.#queue[0] === req) {
      const s = this.socket;
      const head = this.#head;
      if (head === null) return typeof data === 'string' ? s.write(data, 'latin1') : s.write(data);
      this.#head = null;
      if (typeof data !== 'string' && head.length + data.length < JOIN_MAX) {
        // Head and a small body as one buffer: one plain write, no writev.
        const joined = Buffer.allocUnsafe(head.length + data.length);
        joined.write(head, 0, 'latin1');
        data.copy(joined, head.length);
        return s.write(joined);
      }
      s.cork();
      s.write(head, 'latin1');
      const more = typeof data === 'string' ? s.write(data, 'latin1') : s.write(data);
      s.uncork();
      return more;
    }
    (req.h1Out ??= []).push(data);
    return false;
  }

  /**
   * Writes (or holds) a response head. The current response's head is held
   * until its first body bytes, its end or {@link flushHead}, whichever
   * comes first, so that head and body usually leave in one write (one TLS
   * record inbound) without a tick of their own.
   */
  writeHead(req: H1DownstreamRequest, head: string): void {
    if (this.#closed) return;
    if (this.#queue[0] !== req) {
      (req.h1Out ??= []).push(head);
      return;
    }
    this.#head = head;
  }

  /**
   * Writes a head {@link writeHead} still holds: the upstream's read ended
   * with no body bytes behind it (they may be long in coming).
   */
  flushHead(req: H1DownstreamRequest): void {
    const head = this.#head;
    if (head === null || this.#queue[0] !== req) return;
    this.#head = null;
    this.socket.write(head, 'latin1');
  }

  /** Writes (or holds) one chunk of a chunked response body. */
  writeChunk(req: H1DownstreamRequest, data: Buffer): boolean {
    if (this.#closed) return true;
    if (this.#queue[0] === req) {
      const head = this.#head;
      if (head === null) return writeChunk(this.socket, data);
      this.#head = null;
      const s = this.socket;
      s.cork();
      s.write(head, 'latin1');
      const more = writeChunk(s, data);
      s.uncork();
      return more;
    }
    if (data.length === 0) return false;
    const out = (req.h1Out ??= []);
    out.push(data.length.toString(16) + CRLF, Buffer.from(data), CRLF);
    return false;
  }

  /** True when `req` writes straight to the socket (its turn). */
  isCurrent(req: H1DownstreamRequest): boolean {
    return this.#queue[0] === req;
  }

  /**
   * The response of `req` is complete (written or held). `close`: the
   * connection ends after it. Later responses then flush in order.
   */
  finish(req: H1DownstreamRequest, close: boolean): void {
    if (close) this.#closeAfter = true;
    if (req === this.#reading) {
      // Answered before its body arrived whole: the connection ends after
      // the answer rather than reading a body nobody wants (the client gets
      // FIN after the response, and the socket lingers until it closes or
      // the idle timeout).
      this.#reading = null;
      this.#closeAfter = true;
      this.#parser.stop();
    }
    req.h1Done = true;
    if (this.#queue[0] !== req) return;
    // A response with no body (HEAD, 204, 304, Content-Length: 0) ends with its head held.
    this.flushHead(req);
    this.#advance();
  }

  /** Destroys the connection (a broken response; every request on it is lost). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Pauses reading the request body (the upstream is full). */
  pauseBody(): void {
    if (this.#bodyPaused) return;
    this.#bodyPaused = true;
    this.socket.pause();
  }

  /** Reads the request body on. */
  resumeBody(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    if (!this.#readPaused) this.socket.resume();
  }

  /**
   * Writes a response the proxy makes itself (a row of forward-answer.ts)
   * straight to the socket and closes (no request object); `status` and
   * `body` when the refusal names a more precise one.
   */
  answerAndClose(row: AnswerRow, status: number = row.status, body: string = row.body): void {
    const b = localBody(body);
    this.#closeAfter = true;
    this.#ending = true;
    this.#parser.stop();
    this.socket.end(
      Buffer.concat([Buffer.from(serializeResponseHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(b.length), 'connection', 'close'], ''), 'latin1'), b]),
    );
    // A client that never closes its side is cut at the idle timeout.
    this.#setTimer(IDLE_TIMER);
  }

  // ---- MessageSink ---------------------------------------------------------

  onHead(): void {
    const p = this.#parser;
    this.#setTimer(NO_TIMER);
    if (p.upgrade && this.#queue.length === 0 && !this.#owner.draining && isWebSocket(p.raw)) {
      p.upgradeNow();
      return;
    }
    if (!p.keepAlive || this.#owner.draining) this.#closeAfter = true;
    const req = this.#owner.h1Request(this, p);
    if (req === null) {
      p.stop();
      return;
    }
    req.h1Out = null;
    req.h1Done = false;
    this.#queue.push(req);
    if (p.framing !== 'none') this.#reading = req;
    this.#owner.h1Dispatch(req);
  }

  onBody(chunk: Buffer): void {
    this.#reading?.h1RequestBody(chunk);
  }

  onMessageEnd(trailers: string[] | null): void {
    const r = this.#reading;
    this.#reading = null;
    r?.h1RequestEnd(trailers);
  }

  // ---- socket events ---------------------------------------------------------

  /** @internal */
  data(chunk: Buffer): void {
    if (this.#closed || this.#ending) return;
    let buf = chunk;
    // The idle timeout becomes the head timeout in #updateTimer below, and
    // only when a head is left incomplete: a head that arrives whole in one
    // read (the usual case) re-arms nothing.
    while (buf.length > 0) {
      if (this.#closeAfter && this.#reading === null && this.#parser.idle) {
        // After the last request this connection serves: nothing more is read.
        return;
      }
      if (this.#queue.length >= this.#owner.maxPipelined && this.#parser.idle) {
        this.#pauseReading(buf);
        return;
      }
      let n: number;
      try {
        n = this.#parser.execute(buf);
      } catch (err) {
        this.#refuse(err);
        return;
      }
      if (this.#parser.upgraded) {
        this.#handOver(buf.subarray(n));
        return;
      }
      // n is 0 only once the parser stopped (an answered, closing connection).
      if (n === 0 || this.#closed || this.#ending || this.socket.destroyed) return;
      buf = buf.subarray(n);
    }
    this.#updateTimer();
  }

  /** @internal The client closed its side. */
  ended(): void {
    try {
      this.#parser.finish();
    } catch {
      // A request cut off inside its head or body: nothing to answer.
      this.socket.destroy();
      return;
    }
    // A half-closed client may still read the responses in progress.
    if (this.#queue.length === 0) this.socket.end();
    else this.#closeAfter = true;
  }

  /** @internal */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#head = null;
    this.#clearTimers();
    this.#parser.stop();
    const lost = this.#queue.splice(0);
    const reading = this.#reading;
    this.#reading = null;
    if (reading !== null && !lost.includes(reading)) lost.push(reading);
    for (const r of lost) r.h1ConnectionLost();
    this.#owner.h1Closed(this);
  }

  /** @internal */
  drained(): void {
    const r = this.#queue[0];
    if (r !== undefined) r.h1Writable();
  }

  /** @internal The kind of timeout armed now. */
  get timerKind(): number {
    return this.#timerKind;
  }

  /** @internal A timer of `kind` fired. */
  timedOut(kind: number): void {
    if (kind !== this.#timerKind) return;
    this.#timerKind = NO_TIMER;
    if (this.#closed) return;
    if (kind === HEAD_TIMER && !this.#parser.idle && !this.#ending) {
      this.answerAndClose(FORWARD_ANSWERS.headers_timeout);
      return;
    }
    if (kind !== NO_TIMER && this.#queue.length === 0) this.socket.destroy();
  }

  // ---- internals ---------------------------------------------------------------

  /** The head of the queue is done: flush the next responses in order. */
  #advance(): void {
    const q = this.#queue;
    while (q.length > 0 && q[0]!.h1Done) {
      q.shift();
      const next = q[0];
      if (next === undefined) break;
      const out = next.h1Out;
      next.h1Out = null;
      if (out !== null) {
        this.socket.cork();
        for (const d of out) {
          if (typeof d === 'string') this.socket.write(d, 'latin1');
          else this.socket.write(d);
        }
        this.socket.uncork();
      }
      if (!next.h1Done) next.h1Writable();
    }
    if (q.length === 0) {
      if (this.#closeAfter && this.#reading === null) {
        this.#endSocket();
        return;
      }
      if (this.#stash !== null) {
        const rest = this.#stash;
        this.#stash = null;
        this.#readPaused = false;
        if (!this.#bodyPaused) this.socket.resume();
        this.data(rest);
        return;
      }
      if (this.#readPaused) {
        this.#readPaused = false;
        if (!this.#bodyPaused) this.socket.resume();
      }
    } else if (this.#readPaused && this.#queue.length < this.#owner.maxPipelined && this.#stash !== null) {
      const rest = this.#stash;
      this.#stash = null;
      this.#readPaused = false;
      if (!this.#bodyPaused) this.socket.resume();
      this.data(rest);
      return;
    }
    this.#updateTimer();
  }

  #pauseReading(rest: Buffer): void {
    this.#stash = this.#stash === null ? Buffer.from(rest) : Buffer.concat([this.#stash, rest]);
    this.#readPaused = true;
    this.socket.pause();
  }

  #endSocket(): void {
    this.#ending = true;
    this.#parser.stop();
    this.#setTimer(NO_TIMER);
    this.socket.end();
    // A client that never closes its side is cut at the idle timeout.
    this.#setTimer(IDLE_TIMER);
  }

  #updateTimer(): void {
    if (this.#closed) return;
    const p = this.#parser;
    if (p.inBody) this.#setTimer(NO_TIMER);
    else if (!p.idle) {
      if (this.#timerKind !== HEAD_TIMER) this.#setTimer(HEAD_TIMER);
    } else if (this.#queue.length === 0) {
      if (this.#timerKind !== IDLE_TIMER) this.#setTimer(IDLE_TIMER);
    } else this.#setTimer(NO_TIMER);
  }

  #setTimer(kind: number): void {
    const ms = kind === HEAD_TIMER ? this.#owner.headersTimeoutMs : kind === IDLE_TIMER ? this.#owner.idleTimeoutMs : 0;
    if (ms <= 0) {
      this.#timerKind = NO_TIMER;
      this.#timer.disarm();
      return;
    }
    this.#timerKind = kind;
    this.#timer.arm(ms);
  }

  #clearTimers(): void {
    this.#timerKind = NO_TIMER;
    this.#timer.clear();
  }

  /** A request the parser refused: answered with the error's status when nothing else is in progress, then closed. */
  #refuse(err: unknown): void {
    this.#parser.stop();
    const reading = this.#reading;
    if (reading !== null) {
      // Broken inside a body: the request already went upstream, so it is cut off, not answered.
      this.socket.destroy();
      return;
    }
    if (this.#queue.length > 0 || !(err instanceof Http1Error)) {
      this.socket.destroy();
      return;
    }
    // The status is the one the broken rule calls for (Http1Error.status, RFC 9112 / RFC 9110).
    this.answerAndClose(FORWARD_ANSWERS.malformed_request, err.status, `${FORWARD_ANSWERS.malformed_request.body}: ${err.message}`);
  }

  #handOver(rest: Buffer): void {
    const s = this.socket;
    this.#clearTimers();
    s.pause();
    s.removeListener('data', onData);
    s.removeListener('end', onEnd);
    s.removeListener('close', onClose);
    s.removeListener('drain', onDrain);
    (s as Tagged)[kDown] = undefined;
    this.#closed = true;
    this.#owner.h1Upgrade(this, this.#parser, s, Buffer.from(rest));
  }
}

/** True when the Upgrade field of `raw` names WebSocket alone (hop-by-hop.ts allows no other upgrade). */
function isWebSocket(raw: readonly string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === 7 && n.toLowerCase() === 'upgrade') return isWebSocketUpgrade(raw[i + 1]);
  }
  return false;
}

function downOf(s: Socket): H1Downstream {
  return (s as Tagged)[kDown]!;
}
function onData(this: Socket, chunk: Buffer): void {
  downOf(this).data(chunk);
}
function onEnd(this: Socket): void {
  downOf(this).ended();
}
function onClose(this: Socket): void {
  downOf(this).closed();
}
function onDrain(this: Socket): void {
  downOf(this).drained();
}
function onTimer(d: H1Downstream): void {
  d.timedOut(d.timerKind);
}
function noop(): void {}
