import { constants as h2constants, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { BodyTimeoutReason } from '../metrics/index.ts';
import { errorResponse } from './error-response.ts';
import { FORWARD_ANSWERS, type AnswerRow, type ForwardAnswer } from './forward-answer.ts';
import { ForwardError } from './forward-error.ts';
import type { H1Connection, H1UpstreamRequest } from './h1-connection.ts';
import { scanResponseHead, trailersToForward, type RequestHeadSink, type ResponseHeadSink } from './hop-by-hop.ts';
import type { FrontPort } from './front-port.ts';
import { resetStream } from './stream-reset.ts';
import type { ConnInfo, ConnLoad, RequestRecord } from './request-record.ts';
import type { WatchedUpload } from './upload-watch.ts';

export { LOCAL_APP_CONN } from './request-record.ts';
export type { ConnInfo, ConnLoad } from './request-record.ts';

/**
 * Where {@link Exchange.forwardTo} hands a request: an upstream adapter
 * (H1Pool, H2Upstream). Named here rather than imported from upstream.ts,
 * which names Exchange, so the two files do not import each other.
 */
export interface ExchangeUpstream {
  /** Name for logs and the access log's `dst`. */
  readonly dst: string;
  /** Sends the request and streams the answer back through `ex`; reports every failure through `ex`. */
  forward(ex: Exchange): void;
}

const kExchange = Symbol('spiffe-sidecar.exchange');
type Tagged = { [kExchange]?: Exchange };

/** The exchange a stream or response was tagged with by {@link tag}. */
export function exchangeOf(o: object): Exchange {
  return (o as Tagged)[kExchange]!;
}

/**
 * Links `o` (a response, stream or socket) to `ex`, so that event listeners
 * can be shared functions instead of per-request closures.
 */
export function tag(o: object, ex: Exchange): void {
  (o as Tagged)[kExchange] = ex;
}

const NO_HEADERS: readonly string[] = Object.freeze([]);
/** Methods safe to resend after a connection reset before any response (RFC 9110 §9.2.2 and §9.2.1). */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * One request through the proxy, from the downstream side (an HTTP/1.1
 * response, an HTTP/2 stream, or an upgrade socket; see the subclasses) to
 * the upstream (a pooled raw HTTP/1.1 connection, h1-connection.ts, or an
 * HTTP/2 client stream) and back. It is the pooled connection's request
 * and the target of shared HTTP/2 listeners, so a request costs one
 * object, not a set of closures.
 *
 * Lifecycle: the route decides (answer locally with {@link reject}, or
 * {@link forwardTo} an upstream); the upstream streams the response through
 * sendHead/writeBody/endBody with backpressure; whichever side fails or
 * goes away first aborts the other; when the downstream closes, the request
 * is counted and logged exactly once.
 */
export abstract class Exchange implements RequestRecord, RequestHeadSink, ResponseHeadSink, H1UpstreamRequest, WatchedUpload {
  readonly front: FrontPort<Exchange>;
  readonly conn: ConnInfo;
  /** The downstream connection's count of requests holding upstream capacity. */
  readonly load: ConnLoad;
  /** The method as received. */
  readonly method: string;
  /** The request-target as received (for logs and policy). */
  readonly path: string;
  /** The request-target to send upstream (inbound sets the normalised one). */
  target: string;

  // Filled by scanRequestHead.
  headers: string[] = [];
  authority = '';
  hasHostHeader = false;
  hasBody = false;
  upgrade = '';
  headerBytes = 0;
  /** The request body when there is one. */
  body: Readable | null = null;
  /**
   * The request's trailer fields that may go upstream (h2-request-trailers.ts),
   * null when it had none. An HTTP/2 downstream fills it; it is known by the
   * time the body's 'end' is emitted (node emits 'trailers' first).
   */
  requestTrailers: string[] | null = null;

  // Filled by scanResponseHead.
  responseHeaders: string[] = [];
  responseChunked = false;
  /**
   * The HTTP/2 upstream ended the stream with its response HEADERS (a
   * gRPC "Trailers-Only" response: grpc-status in the only header block).
   * An HTTP/2 downstream must get the same single frame; headers followed
   * by an empty DATA frame would turn the status into initial metadata.
   */
  responseHeadEndsStream = false;

  /** Status sent downstream; 0 until a response head went out. */
  status = 0;
  /** The upstream's verified server ID (outbound), the metric label there. */
  serverId = '';
  /** Access-log fields. */
  dst = '';
  decision = '';
  reason = '';
  /** The policy rule that decided (inbound); '' when none did. */
  rule = '';
  /** The verified end user's `sub` and OAuth client (inbound); '' without a token. */
  subject = '';
  clientId = '';
  /** The request's W3C trace ID (32 lowercase hex digits); '' when tracing is off. */
  traceId = '';
  /** The tracer's span for this request (sidecar/tracing); null when tracing is off. */
  traceSpan: object | null = null;
  /** The dry-run rules that matched (inbound enforcement sets it), for the audit log. */
  dryRun: readonly { readonly rule: string; readonly outcome: 'would_allow' | 'would_deny' }[] | undefined = undefined;

  /** Request body bytes received (counted as the upstream reads the body). */
  bodyBytes = 0;
  /** Response body bytes relayed downstream. */
  responseBytes = 0;
  /** Set before a local answer that must also end the downstream connection (HTTP/1.1) or stream (HTTP/2). */
  closeAfterLocal = false;
  // UploadWatch's state (see WatchedUpload).
  watchStartedAt = 0;
  watchBase = 0;
  watchSeen = 0;
  watchIdleSince = 0;
  watchMinRate = false;
  readonly #startedAt: number;
  #upstream: ExchangeUpstream | null = null;
  /** The HTTP/1.1 upstream connection while it carries this request. */
  #h1: H1Connection | null = null;
  /** The request body is paused until the HTTP/1.1 upstream drains. */
  #bodyWaiting = false;
  #h2: ClientHttp2Stream | null = null;
  #h2Error: Error | null = null;
  #trailers: string[] | null = null;
  #timer: NodeJS.Timeout | null = null;
  #upstreamActive = false;
  #downstreamClosed = false;
  #recorded = false;
  #retried = false;
  /** Counted against the connection's and the caller's upstream budget (HttpFront.admit). */
  #admitted = false;
  /** The request body arrived complete (END_STREAM / the last chunk), not cut off. */
  #bodyDone = false;
  /** The body is written upstream by this exchange (onBodyData). */
  #pipingBody = false;
  /** The proxy stopped the upstream itself; the failure that follows is not the upstream's to report. */
  #cancelled = false;

  constructor(front: FrontPort<Exchange>, conn: ConnInfo, load: ConnLoad, method: string, path: string) {
    this.front = front;
    this.conn = conn;
    this.load = load;
    this.method = method;
    this.path = path;
    this.target = path;
    this.#startedAt = performance.now();
    front.requestStarted();
  }

  // ---- downstream side, per protocol ------------------------------------

  /** Sends the response head: `status` and {@link responseHeaders}. */
  protected abstract sendHead(status: number): void;
  /** Writes a body chunk; false means wait for {@link resumeUpstream}. */
  protected abstract writeBody(chunk: Buffer): boolean;
  /** Ends the response, with trailers when the protocol can carry them. */
  protected abstract endBody(trailers: string[] | null): void;
  /** Sends a short plain-text response generated by the proxy. */
  protected abstract sendLocal(status: number, body: string): void;
  /** Breaks the downstream exchange (reset) after a response had started. */
  protected abstract abortDownstream(): void;
  /** Arranges for {@link resumeUpstream} once the downstream drained. */
  protected abstract waitForDrain(): void;
  /** True once a response head was sent downstream. */
  abstract headSent(): boolean;

  /** Switches protocols after a 101 (only upgrade requests support it). */
  protected upgraded(socket: Duplex): void {
    socket.destroy();
  }

  // ---- route decisions ----------------------------------------------------

  /**
   * Extra response headers (name, value, ...) of the local answer being
   * sent, e.g. `www-authenticate` on a 401 (RFC 6750 §3); empty otherwise.
   */
  localHeaders: readonly string[] = NO_HEADERS;

  /**
   * Answers the request from the proxy itself with a row of a local-answer
   * map (forward-answer.ts, and each direction's own): its status, headers
   * and reason, `body` when the caller has a more precise one, and the end
   * of the downstream connection (HTTP/1.1) or stream (HTTP/2) when the row
   * says so.
   */
  answer(row: AnswerRow, body: string = row.body): void {
    if (row.close) this.closeAfterLocal = true;
    this.reason = row.reason;
    this.localHeaders = row.headers;
    if (this.#downstreamClosed) return;
    if (this.headSent()) this.abortDownstream();
    else this.sendLocal(row.status, body);
  }

  /** True once the downstream went away; a decision that finished late (a token fetch) then does nothing. */
  get clientGone(): boolean {
    return this.#downstreamClosed;
  }

  /**
   * Hands the request to `upstream`, if the connection's and the caller's
   * upstream budget allow one more request; otherwise answers 503 with
   * `retry-after` at once (never a queue: docs/security.md).
   */
  forwardTo(upstream: ExchangeUpstream): void {
    this.dst = upstream.dst;
    if (this.#downstreamClosed) return;
    const full = this.front.admit(this);
    if (full !== null) {
      this.front.metrics.upstreamOverflow(this.front.direction, full);
      this.answer(full === 'connection' ? FORWARD_ANSWERS.connection_overflow : FORWARD_ANSWERS.caller_overflow);
      return;
    }
    this.#admitted = true;
    this.#upstream = upstream;
    this.#upstreamActive = true;
    const body = this.body;
    if (this.hasBody && body !== null) {
      tag(body, this);
      body.once('end', onBodyEnd);
    }
    upstream.forward(this);
  }

  /** True when the request body that ended is the whole body (subclasses tell a reset apart). */
  bodyComplete(): boolean {
    return true;
  }

  /** A count that grows as request body bytes arrive (UploadWatch). */
  bodyProgress(): number {
    return this.bodyBytes;
  }

  /**
   * The body stalled or crawled (UploadWatch): reset the upstream request so
   * the app never sees it complete, and answer 408 closing the connection
   * (the rest of the body will not be read), or reset a started response.
   */
  uploadTimedOut(reason: BodyTimeoutReason): void {
    this.front.metrics.requestBodyTimeout(this.front.direction, reason);
    const row = reason === 'idle' ? FORWARD_ANSWERS.request_body_timeout : FORWARD_ANSWERS.request_body_too_slow;
    this.#cancelUpstream(row.body);
    this.answer(row);
  }

  /** @internal The request body ended: pass END_STREAM on only when the body is really complete. */
  bodyEnded(): void {
    if (!this.bodyComplete()) {
      // A reset ended it (node:http2 ends a stream's readable side on
      // RST_STREAM); the stream's 'close' follows and resets the upstream.
      return;
    }
    this.#bodyDone = true;
    this.front.uploads.delete(this);
    if (!this.#pipingBody) return;
    if (this.#h1 !== null) this.#h1.endBody(this.requestTrailers);
    else if (this.#h2 !== null && !this.#h2.destroyed) this.#h2.end();
  }

  /** @internal A body chunk for the upstream, with backpressure. */
  bodyData(chunk: Buffer): void {
    this.bodyBytes += chunk.length;
    const h1 = this.#h1;
    if (h1 !== null) {
      if (!h1.writeBody(chunk)) {
        this.#bodyWaiting = true;
        this.body!.pause();
      }
      return;
    }
    const up = this.#h2;
    if (up === null || up.destroyed) return;
    if (!up.write(chunk)) {
      this.body!.pause();
      up.once('drain', onUpstreamDrain);
    }
  }

  /** @internal The HTTP/2 upstream drained: read the body on. */
  resumeBody(): void {
    this.body?.resume();
  }

  // ---- HTTP/1.1 upstream (H1UpstreamRequest, called by h1-connection.ts) ----

  /** @internal The head is on the wire: stream the body, or stop at once when the client already left. */
  h1Started(conn: H1Connection): void {
    if (this.#downstreamClosed || this.#cancelled || !this.#upstreamActive) {
      conn.abort();
      return;
    }
    this.#h1 = conn;
    const body = this.body;
    if (!this.hasBody || body === null) return;
    if (this.#bodyDone) {
      conn.endBody(this.requestTrailers);
      return;
    }
    this.#pipingBody = true;
    tag(body, this);
    body.on('data', onBodyData);
    // The body holds an upstream connection of its own until it ends, so
    // the minimum upload rate applies as well as the idle timeout.
    this.front.uploads.add(this, true);
  }

  /** @internal The response head; relayed with hop-by-hop fields dropped. */
  h1Head(status: number, raw: string[]): void {
    if (this.#h1 !== null) this.serverId = this.#h1.serverId;
    scanResponseHead(raw, false, this);
    this.#sendHeadSafely(status);
  }

  /** @internal A response body chunk; false pauses the connection until the downstream drains. */
  h1Body(chunk: Buffer): boolean {
    this.responseBytes += chunk.length;
    if (this.writeBody(chunk)) return true;
    this.waitForDrain();
    return false;
  }

  /** @internal The response ended, with trailers when it was chunked and had some. */
  h1End(trailers: string[] | null): void {
    this.#detachH1();
    this.#upstreamFinished();
    this.endBody(trailersToForward(trailers));
  }

  /** @internal The request failed on its connection (or got none). */
  h1Failed(err: Error, retryable: boolean): void {
    this.#detachH1();
    this.#upstreamFinished();
    if (this.#cancelled) return;
    if (retryable && this.#shouldRetry(false)) {
      this.#retried = true;
      this.#upstreamActive = true;
      this.#upstream!.forward(this);
      return;
    }
    this.upstreamFailed(err);
  }

  /** @internal The upstream answered 101; the socket is ours from here on. */
  h1Upgraded(status: number, raw: string[], socket: Socket): void {
    if (this.#h1 !== null) this.serverId = this.#h1.serverId;
    this.#detachH1();
    this.#upstreamFinished();
    scanResponseHead(raw, true, this);
    this.status = status;
    if (this.#downstreamClosed) {
      socket.destroy();
      return;
    }
    this.upgraded(socket);
  }

  /** @internal The HTTP/1.1 upstream drained: read the body on. */
  h1Drained(): void {
    if (!this.#bodyWaiting) return;
    this.#bodyWaiting = false;
    this.body?.resume();
  }

  #detachH1(): void {
    this.#h1 = null;
    if (this.#bodyWaiting) {
      // The upstream wants no more of the body; let the downstream read it on.
      this.#bodyWaiting = false;
      this.body?.resume();
    }
  }

  // ---- HTTP/2 upstream ----------------------------------------------------

  /** Request head for an HTTP/2 upstream: pseudo-headers, then the headers without Host. */
  h2RequestHeaders(scheme: 'http' | 'https', fallbackAuthority: string): string[] {
    const out = [':method', this.method, ':path', this.target, ':scheme', scheme, ':authority', this.authority || fallbackAuthority];
    const h = this.headers;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = h[i]!;
      if (name.length === 4 && name.toLowerCase() === 'host') continue;
      out.push(name, h[i + 1]!);
    }
    return out;
  }

  /** Attaches an HTTP/2 client stream carrying this request (see H2Upstream). */
  attachH2(stream: ClientHttp2Stream, serverId: string): void {
    this.#h2 = stream;
    this.serverId = serverId;
    tag(stream, this);
    stream.on('response', onH2Response);
    stream.on('data', onH2Data);
    stream.on('trailers', onH2Trailers);
    stream.on('end', onH2End);
    stream.on('error', onH2Error);
    stream.on('close', onH2Close);
    const timeout = this.front.limits.requestTimeoutMs;
    // A Node timer rather than the injected Clock: it is per request, and a
    // ManualClock would not make it cheaper or more testable.
    if (timeout > 0) this.#timer = setTimeout(onH2Timeout, timeout, this).unref();
    if (this.#downstreamClosed) {
      resetStream(stream, 'client went away');
      return;
    }
    const body = this.body;
    if (!this.hasBody || body === null) return;
    if (this.#bodyDone) {
      stream.end();
      return;
    }
    // Not body.pipe(stream): pipe ends the upstream on the body's 'end',
    // which node emits after a reset too; bodyEnded() ends it only for a
    // complete body, and a broken one resets it (stream-reset.ts).
    this.#pipingBody = true;
    body.on('data', onBodyData);
    // Multiplexed: a slow body holds a stream, not a connection, so only the idle timeout applies.
    this.front.uploads.add(this, false);
  }

  /** @internal */
  h2Response(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, raw: string[], flags: number): void {
    const status = Number(headers[':status']);
    if (this.#timer) clearTimeout(this.#timer);
    scanResponseHead(raw, false, this);
    // HTTP/2 responses may end with trailers whatever their headers say.
    this.responseChunked = true;
    // stream.endAfterHeaders is not set yet when 'response' fires; the frame flags are.
    this.responseHeadEndsStream = (flags & h2constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    this.#sendHeadSafely(status);
  }

  /** @internal */
  h2Data(stream: ClientHttp2Stream, chunk: Buffer): void {
    this.responseBytes += chunk.length;
    if (!this.writeBody(chunk)) {
      stream.pause();
      this.waitForDrain();
    }
  }

  /** @internal */
  h2Trailers(raw: string[]): void {
    this.#trailers = trailersToForward(raw);
  }

  /** @internal */
  h2End(): void {
    if (!this.#upstreamActive) return;
    this.#upstreamFinished();
    this.endBody(this.#trailers);
  }

  /** @internal */
  h2Error(err: Error): void {
    this.#h2Error = err;
  }

  /** @internal */
  h2Closed(rstCode: number): void {
    if (!this.#upstreamActive) return;
    this.#upstreamFinished();
    // A refused stream was never processed and may be sent again whatever
    // its method (RFC 9113 §8.7): it happens to a stream still queued when
    // its session was retired (GOAWAY after a rotation, h2-upstream.ts).
    if (rstCode === h2constants.NGHTTP2_REFUSED_STREAM && !this.#cancelled && this.#shouldRetry(true)) {
      this.#retried = true;
      this.#h2 = null;
      this.#h2Error = null;
      this.#upstreamActive = true;
      this.#upstream!.forward(this);
      return;
    }
    this.upstreamFailed(this.#h2Error ?? new ForwardError('forward.upstream_reset', `upstream reset the stream (HTTP/2 error code ${rstCode})`));
  }

  /** @internal */
  h2TimedOut(): void {
    if (!this.#upstreamActive || this.headSent()) return;
    this.#upstreamFinished();
    if (this.#h2 !== null) resetStream(this.#h2, 'no response headers in time');
    this.upstreamFailed(new ForwardError('forward.timeout', `upstream timeout: no response headers within ${this.front.limits.requestTimeoutMs}ms`));
  }

  // ---- shared -------------------------------------------------------------

  /** Continues reading the upstream after the downstream drained. */
  resumeUpstream(): void {
    if (this.#h1 !== null) this.#h1.resume();
    else this.#h2?.resume();
  }

  /**
   * Reports an upstream failure downstream: an error response when nothing
   * was sent yet, else a reset, since a half-sent response cannot be fixed.
   */
  upstreamFailed(err: unknown): void {
    this.#upstreamFinished();
    if (this.#downstreamClosed) return;
    const r = errorResponse(err);
    this.reason = r.reason;
    this.front.upstreamError(this, r.answer, err);
    this.localHeaders = r.answer.headers;
    // The only retryable ForwardError: every pool connection was busy.
    if (r.retryAfter > 0) this.front.metrics.upstreamOverflow(this.front.direction, 'pool');
    if (this.headSent()) this.abortDownstream();
    else this.sendLocal(r.status, r.body);
  }

  /**
   * The downstream side closed (finished or aborted): stops the upstream if
   * it is still going (client aborts propagate), then counts the request.
   */
  protected downstreamClosed(): void {
    if (this.#downstreamClosed) return;
    this.#downstreamClosed = true;
    if (this.reason === '' && this.status === 0) this.reason = 'client_abort';
    if (this.#upstreamActive) {
      this.#cancelUpstream('client went away');
    } else if (this.#h2 !== null && !this.#bodyDone && this.#pipingBody) {
      // The response is complete but the body was still being sent: the app
      // must not see it end (stream-reset.ts).
      resetStream(this.#h2, 'client went away');
    }
    this.record();
  }

  /** Counts and logs the request; once. */
  protected record(): void {
    if (this.#recorded) return;
    this.#recorded = true;
    this.front.uploads.delete(this);
    if (this.#admitted) {
      this.#admitted = false;
      this.front.release(this);
    }
    const seconds = (performance.now() - this.#startedAt) / 1000;
    this.front.requestDone(this, seconds);
  }

  #sendHeadSafely(status: number): void {
    if (this.#downstreamClosed) return;
    try {
      this.status = status;
      this.sendHead(status);
    } catch (err) {
      // The HTTP/1.1 head writer (sidecar/http1) and node:http2 refuse malformed names or values from the upstream.
      this.status = 0;
      if (this.#h1 !== null) {
        this.#h1.abort();
        this.#detachH1();
      } else if (this.#h2 !== null) resetStream(this.#h2, 'invalid response head');
      this.#upstreamFinished();
      const row: ForwardAnswer = FORWARD_ANSWERS.upstream_protocol;
      this.reason = row.reason;
      if (!this.headSent()) this.sendLocal(row.status, `upstream sent an invalid response head: ${(err as Error).message}`);
      else this.abortDownstream();
    }
  }

  /**
   * Stops the upstream request now: the HTTP/1.1 connection is destroyed
   * (the app sees the request cut off), an HTTP/2 stream gets RST_STREAM and
   * never END_STREAM (stream-reset.ts).
   */
  #cancelUpstream(why: string): void {
    if (!this.#upstreamActive) return;
    this.#cancelled = true;
    if (this.#h1 !== null) {
      this.#h1.abort();
      this.#detachH1();
    } else if (this.#h2 !== null) resetStream(this.#h2, why);
    this.#upstreamFinished();
  }

  #upstreamFinished(): void {
    this.front.uploads.delete(this);
    if (!this.#upstreamActive) return;
    this.#upstreamActive = false;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /**
   * Once, for a request without a body (it was streamed, it cannot be sent
   * twice) that has sent nothing downstream yet; `anyMethod` when the
   * upstream is known not to have processed it, else idempotent methods only.
   */
  #shouldRetry(anyMethod: boolean): boolean {
    if (this.#retried || this.#downstreamClosed || this.headSent() || this.hasBody || this.upgrade !== '' || this.#upstream === null) return false;
    return anyMethod || RETRYABLE_METHODS.has(this.method);
  }
}

function onH2Response(this: ClientHttp2Stream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number, raw: string[]): void {
  exchangeOf(this).h2Response(headers, raw, flags);
}
function onH2Data(this: ClientHttp2Stream, chunk: Buffer): void {
  exchangeOf(this).h2Data(this, chunk);
}
function onH2Trailers(this: ClientHttp2Stream, _t: IncomingHttpHeaders, _flags: number, raw: string[]): void {
  exchangeOf(this).h2Trailers(raw);
}
function onH2End(this: ClientHttp2Stream): void {
  exchangeOf(this).h2End();
}
function onH2Error(this: ClientHttp2Stream, err: Error): void {
  exchangeOf(this).h2Error(err);
}
function onH2Close(this: ClientHttp2Stream): void {
  exchangeOf(this).h2Closed(this.rstCode ?? 0);
}
function onH2Timeout(ex: Exchange): void {
  ex.h2TimedOut();
}
function onBodyEnd(this: Readable): void {
  exchangeOf(this).bodyEnded();
}
function onBodyData(this: Readable, chunk: Buffer): void {
  exchangeOf(this).bodyData(chunk);
}
function onUpstreamDrain(this: ClientHttp2Stream): void {
  exchangeOf(this).resumeBody();
}
