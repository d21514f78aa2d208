import { constants as h2constants, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import type { Duplex, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { SpiffeId } from '../spiffe/index.ts';
import type { CallerIdentity } from '../headers/index.ts';
import { errorResponse } from './error-response.ts';
import { ForwardError } from './forward-error.ts';
import type { H1PoolRequest, PoolSlot } from './h1-pool.ts';
import { scanResponseHead, trailersToForward, type RequestHeadSink, type ResponseHeadSink } from './hop-by-hop.ts';
import type { HttpFront } from './http-front.ts';
import type { Upstream } from './upstream.ts';

/** What the proxy knows about the connection a request came in on. */
export interface ConnInfo {
  /** The verified caller (inbound); undefined for the app's own connections (outbound). */
  readonly peer: SpiffeId | undefined;
  /** `peer` as a string, '' when there is none: the inbound metric and log label. */
  readonly peerId: string;
  /** The identity header values for this caller, computed once per connection (inbound). */
  readonly caller: CallerIdentity | undefined;
}

/** The connection info of the app's plain connections to the outbound listener. */
export const LOCAL_APP_CONN: ConnInfo = Object.freeze({ peer: undefined, peerId: '', caller: undefined });

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

const NO_SNI = 'upstream';
/** undici's request options as its Request reads them (the types omit `servername`). */
type UndiciOptions = Dispatcher.DispatchOptions & { servername: string };

/** Methods safe to resend after a connection reset before any response (RFC 9110 §9.2.2 and §9.2.1). */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const RETRYABLE_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * One request through the proxy, from the downstream side (an HTTP/1.1
 * response, an HTTP/2 stream, or an upgrade socket; see the subclasses) to
 * the upstream (undici on a pooled HTTP/1.1 connection, or an HTTP/2 client
 * stream) and back. It is undici's dispatch handler itself and the target
 * of shared HTTP/2 listeners, so a request costs one object, not a set of
 * closures.
 *
 * Lifecycle: the route decides (answer locally with {@link reject}, or
 * {@link forwardTo} an upstream); the upstream streams the response through
 * sendHead/writeBody/endBody with backpressure; whichever side fails or
 * goes away first aborts the other; when the downstream closes, the request
 * is counted and logged exactly once.
 */
export abstract class Exchange implements RequestHeadSink, ResponseHeadSink, H1PoolRequest {
  readonly front: HttpFront;
  readonly conn: ConnInfo;
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

  slot: PoolSlot | null = null;
  readonly #startedAt: number;
  #upstream: Upstream | null = null;
  #controller: Dispatcher.DispatchController | null = null;
  #h2: ClientHttp2Stream | null = null;
  #h2Error: Error | null = null;
  #trailers: string[] | null = null;
  #timer: NodeJS.Timeout | null = null;
  #upstreamActive = false;
  #downstreamClosed = false;
  #recorded = false;
  #retried = false;

  constructor(front: HttpFront, conn: ConnInfo, method: string, path: string) {
    this.front = front;
    this.conn = conn;
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

  /** Answers the request from the proxy itself (policy denial, bad route, ...). */
  reject(status: number, body: string, reason: string): void {
    this.reason = reason;
    if (this.#downstreamClosed) return;
    if (this.headSent()) this.abortDownstream();
    else this.sendLocal(status, body);
  }

  /** Hands the request to `upstream`. */
  forwardTo(upstream: Upstream): void {
    this.#upstream = upstream;
    this.dst = upstream.dst;
    this.#upstreamActive = true;
    upstream.forward(this);
  }

  // ---- undici (HTTP/1.1 upstream) -----------------------------------------
  // The methods below are undici's DispatchHandler interface: H1Pool passes
  // the exchange itself as the handler.

  /** undici's request options: raw header array (Host added when the request came as HTTP/2), body, upgrade. */
  h1DispatchOptions(): Dispatcher.DispatchOptions {
    const headers = this.hasHostHeader || this.authority === '' ? this.headers : this.headers.concat('host', this.authority);
    // `servername` is never used (our dialer does TLS); setting it spares
    // undici an IP-literal regex on every request.
    let opts: UndiciOptions;
    if (this.upgrade !== '') {
      opts = { method: this.method, path: this.target, headers, body: null, upgrade: this.upgrade, servername: NO_SNI };
    } else {
      // undici reads async iterables too (its docs say so; its types do not).
      const body = (this.hasBody ? this.undiciBody() : null) as Readable | null;
      opts = { method: this.method, path: this.target, headers, body, servername: NO_SNI };
    }
    return opts;
  }

  /** The request body as undici should read it. */
  protected undiciBody(): Readable | AsyncIterable<Buffer> | null {
    return this.body;
  }

  /** undici: the request got a connection; a client that already left aborts it here. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#downstreamClosed) {
      controller.abort(new ForwardError('forward.upstream_reset', 'client went away'));
      return;
    }
    this.#controller = controller;
  }

  /** undici: response head; relayed from the raw header buffers, hop-by-hop fields dropped. */
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode < 200) return; // 1xx: this hop already answered Expect; informational ones are not relayed
    if (this.slot) this.serverId = this.slot.presentedId;
    scanResponseHead(controller.rawHeaders as Buffer[], false, this);
    this.#sendHeadSafely(statusCode);
  }

  /** undici: a body chunk; pauses the upstream while the downstream is full. */
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.writeBody(chunk)) {
      controller.pause();
      this.waitForDrain();
    }
  }

  /** undici: the response ended, with trailers when it was chunked and had some. */
  onResponseEnd(controller: Dispatcher.DispatchController): void {
    this.#upstreamFinished();
    this.endBody(trailersToForward(controller.rawTrailers as Buffer[] | null | undefined));
  }

  /** undici: the request failed (also called synchronously when dispatch refuses the options). */
  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.#upstreamFinished();
    if (this.#shouldRetry(err)) {
      this.#retried = true;
      this.#controller = null;
      this.#upstreamActive = true;
      this.#upstream!.forward(this);
      return;
    }
    this.upstreamFailed(err);
  }

  /** undici: the upstream answered 101; the socket is ours from here on. */
  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, socket: Duplex): void {
    this.#upstreamFinished();
    if (this.slot) this.serverId = this.slot.presentedId;
    scanResponseHead(controller.rawHeaders as Buffer[], true, this);
    this.status = statusCode;
    if (this.#downstreamClosed) {
      socket.destroy();
      return;
    }
    this.upgraded(socket);
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
    // ManualClock would not make it cheaper or more testable than undici's own.
    if (timeout > 0) this.#timer = setTimeout(onH2Timeout, timeout, this).unref();
    if (this.#downstreamClosed) {
      stream.close(h2constants.NGHTTP2_CANCEL);
      return;
    }
    if (this.hasBody && this.body) this.body.pipe(stream);
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
    this.upstreamFailed(this.#h2Error ?? new ForwardError('forward.upstream_reset', `upstream reset the stream (HTTP/2 error code ${rstCode})`));
  }

  /** @internal */
  h2TimedOut(): void {
    if (!this.#upstreamActive || this.headSent()) return;
    this.#upstreamFinished();
    this.#h2?.close(h2constants.NGHTTP2_CANCEL);
    this.upstreamFailed(new ForwardError('forward.timeout', `upstream timeout: no response headers within ${this.front.limits.requestTimeoutMs}ms`));
  }

  // ---- shared -------------------------------------------------------------

  /** Continues reading the upstream after the downstream drained. */
  resumeUpstream(): void {
    if (this.#controller) this.#controller.resume();
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
    this.front.upstreamError(this, r.reason, err);
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
    if (this.#upstreamActive) {
      if (this.#controller) this.#controller.abort(new ForwardError('forward.upstream_reset', 'client went away'));
      else if (this.#h2 && !this.#h2.closed) this.#h2.close(h2constants.NGHTTP2_CANCEL);
      if (this.reason === '' && this.status === 0) this.reason = 'client_abort';
    }
    this.record();
  }

  /** Counts and logs the request; once. */
  protected record(): void {
    if (this.#recorded) return;
    this.#recorded = true;
    const seconds = (performance.now() - this.#startedAt) / 1000;
    this.front.requestDone(this, seconds);
  }

  #sendHeadSafely(status: number): void {
    if (this.#downstreamClosed) return;
    try {
      this.status = status;
      this.sendHead(status);
    } catch (err) {
      // node:http and node:http2 refuse malformed names or values from the upstream.
      this.status = 0;
      if (this.#controller) this.#controller.abort(err as Error);
      else this.#h2?.close(h2constants.NGHTTP2_CANCEL);
      this.#upstreamFinished();
      this.reason = 'upstream_protocol';
      if (!this.headSent()) this.sendLocal(502, `upstream sent an invalid response head: ${(err as Error).message}`);
      else this.abortDownstream();
    }
  }

  #upstreamFinished(): void {
    if (!this.#upstreamActive) return;
    this.#upstreamActive = false;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const slot = this.slot;
    if (slot) {
      this.slot = null;
      slot.release();
    }
  }

  #shouldRetry(err: Error): boolean {
    if (this.#retried || this.#downstreamClosed || this.headSent() || this.hasBody || this.upgrade !== '' || this.#upstream === null) return false;
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && RETRYABLE_CODES.has(code) && RETRYABLE_METHODS.has(this.method);
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
