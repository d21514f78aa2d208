import { constants as h2constants, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import { ForwardError } from './forward-error.ts';
import { fieldObject } from './request-trailers.ts';
import { resetStream } from './stream-reset.ts';

/**
 * What an HTTP/2 upstream stream needs from the request it carries: its
 * head and trailers, and where the answer goes. Exchange implements it; the
 * relay calls back through it, so a request costs the relay object and no
 * closures (the HTTP/1.1 counterpart is H1UpstreamRequest, h1-connection.ts).
 */
export interface H2StreamRequest {
  readonly method: string;
  /** The request-target to send as `:path`. */
  readonly target: string;
  /** Host / :authority as received; '' when there was none. */
  readonly authority: string;
  /** End-to-end request headers (name, value, ...). */
  readonly headers: readonly string[];
  /** The request's trailer fields (request-trailers.ts), null for none; read once the body is sent. */
  readonly requestTrailers: string[] | null;
  /** The response head; `endsStream` when HEADERS carried END_STREAM (a gRPC Trailers-Only response). */
  h2Head(status: number, raw: string[], endsStream: boolean): void;
  /** A response body chunk; false asks the relay to pause until {@link H2StreamRelay.resume}. */
  h2Body(chunk: Buffer): boolean;
  /** The response ended, with its raw trailer fields when there were any. */
  h2End(trailers: string[] | null): void;
  /**
   * The stream failed (closed without a complete response, or no response
   * head in time) and is gone. `refused`: the server reset it with
   * REFUSED_STREAM, so it was never processed (RFC 9113 §8.7).
   */
  h2Failed(err: Error, refused: boolean): void;
  /** The stream drained: body writes may continue. */
  h2Drained(): void;
}

/** Request head for an HTTP/2 upstream: pseudo-headers, then the headers without Host (RFC 9113 §8.3.1). */
export function h2RequestHead(req: H2StreamRequest, scheme: 'http' | 'https', fallbackAuthority: string): string[] {
  const out = [':method', req.method, ':path', req.target, ':scheme', scheme, ':authority', req.authority || fallbackAuthority];
  const h = req.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') continue;
    out.push(name, h[i + 1]!);
  }
  return out;
}

const kRelay = Symbol('spiffe-sidecar.h2relay');
type Tagged = { [kRelay]?: H2StreamRelay };

/**
 * One HTTP/2 client stream carrying one request (H2Upstream opens it): its
 * listeners, the deadline for the response head, the request body written
 * into it, request trailers out and response trailers in, and resets that
 * never end the stream (stream-reset.ts). Listeners are shared functions on
 * the tagged stream, so the relay is the one object a request adds here.
 */
export class H2StreamRelay {
  /** The upstream's verified server ID (its session's). */
  readonly serverId: string;
  readonly #req: H2StreamRequest;
  readonly #stream: ClientHttp2Stream;
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | null = null;
  #error: Error | null = null;
  #trailers: string[] | null = null;
  /** The response ended or the proxy reset the stream: its 'close' has nothing to report. */
  #done = false;

  /** `sendsTrailers`: the stream was opened with `waitForTrailers`; `timeoutMs` 0 means no deadline for the head. */
  constructor(req: H2StreamRequest, stream: ClientHttp2Stream, serverId: string, timeoutMs: number, sendsTrailers: boolean) {
    this.#req = req;
    this.#stream = stream;
    this.serverId = serverId;
    this.#timeoutMs = timeoutMs;
    // Why paused until the response head: node:http2 emits 'response' on
    // the next tick, but hands over DATA that came in the same read at
    // once when that read runs inside JavaScript (a TLS socket decrypting
    // during one of our writes, under load). Body bytes would then reach
    // the downstream before its head, node would answer 200 by itself, and
    // the real head would fail: RST_STREAM(INTERNAL_ERROR) bursts at 32+
    // concurrent streams. The paused stream keeps DATA in its buffer,
    // bounded by the flow-control window.
    stream.pause();
    (stream as Tagged)[kRelay] = this;
    stream.on('response', onResponse);
    stream.on('data', onData);
    stream.on('trailers', onTrailers);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    if (sendsTrailers) stream.on('wantTrailers', onWantTrailers);
    // A Node timer rather than the injected Clock: it is per request, and a
    // ManualClock would not make it cheaper or more testable.
    if (timeoutMs > 0) this.#timer = setTimeout(onHeadTimeout, timeoutMs, this).unref();
  }

  /** Writes a request body chunk; false means wait for {@link H2StreamRequest.h2Drained}. A gone stream takes nothing. */
  writeBody(chunk: Buffer): boolean {
    const s = this.#stream;
    if (s.destroyed || s.write(chunk)) return true;
    s.once('drain', onDrain);
    return false;
  }

  /** The request body is complete: END_STREAM, or the trailers first when the stream waits for them. */
  endBody(): void {
    if (!this.#stream.destroyed) this.#stream.end();
  }

  /** Reads the response on after the downstream drained. */
  resume(): void {
    this.#stream.resume();
  }

  /** Stops the request with RST_STREAM, never END_STREAM (stream-reset.ts); nothing is reported after this. */
  reset(why: string): void {
    this.#done = true;
    this.#stopTimer();
    resetStream(this.#stream, why);
  }

  /** @internal */
  response(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number, raw: string[]): void {
    this.#stopTimer();
    // stream.endAfterHeaders is not set yet when 'response' fires; the frame flags are.
    this.#req.h2Head(Number(headers[':status']), raw, (flags & h2constants.NGHTTP2_FLAG_END_STREAM) !== 0);
    // The head is out (or refused): DATA may flow now (see the constructor).
    if (!this.#stream.destroyed) this.#stream.resume();
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (!this.#req.h2Body(chunk)) this.#stream.pause();
  }

  /** @internal */
  trailers(raw: string[]): void {
    this.#trailers = raw;
  }

  /** @internal */
  ended(): void {
    this.#done = true;
    this.#stopTimer();
    this.#req.h2End(this.#trailers);
  }

  /** @internal */
  errored(err: Error): void {
    this.#error = err;
  }

  /** @internal */
  closed(): void {
    this.#stopTimer();
    if (this.#done) return;
    this.#done = true;
    const code = this.#stream.rstCode ?? 0;
    const err = this.#error ?? new ForwardError('forward.upstream_reset', `upstream reset the stream (HTTP/2 error code ${code})`);
    this.#req.h2Failed(err, code === h2constants.NGHTTP2_REFUSED_STREAM);
  }

  /** @internal */
  headTimedOut(): void {
    this.#timer = null;
    if (this.#done) return;
    this.reset('no response headers in time');
    this.#req.h2Failed(new ForwardError('forward.timeout', `upstream timeout: no response headers within ${this.#timeoutMs}ms`), false);
  }

  /** @internal The request's trailers (RFC 9110 §6.5), or an empty set, which node sends as an empty END_STREAM DATA frame. */
  sendTrailers(): void {
    this.#stream.sendTrailers(fieldObject(this.#req.requestTrailers));
  }

  /** @internal */
  drained(): void {
    this.#req.h2Drained();
  }

  #stopTimer(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function relayOf(s: ClientHttp2Stream): H2StreamRelay {
  return (s as Tagged)[kRelay]!;
}
function onResponse(this: ClientHttp2Stream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number, raw: string[]): void {
  relayOf(this).response(headers, flags, raw);
}
function onData(this: ClientHttp2Stream, chunk: Buffer): void {
  relayOf(this).data(chunk);
}
function onTrailers(this: ClientHttp2Stream, _t: IncomingHttpHeaders, _flags: number, raw: string[]): void {
  relayOf(this).trailers(raw);
}
function onEnd(this: ClientHttp2Stream): void {
  relayOf(this).ended();
}
function onError(this: ClientHttp2Stream, err: Error): void {
  relayOf(this).errored(err);
}
function onClose(this: ClientHttp2Stream): void {
  relayOf(this).closed();
}
function onWantTrailers(this: ClientHttp2Stream): void {
  relayOf(this).sendTrailers();
}
function onDrain(this: ClientHttp2Stream): void {
  relayOf(this).drained();
}
function onHeadTimeout(relay: H2StreamRelay): void {
  relay.headTimedOut();
}
