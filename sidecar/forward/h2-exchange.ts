import { constants as h2constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Exchange, exchangeOf, tag, type ConnInfo } from './exchange.ts';
import { scanRequestHead } from './hop-by-hop.ts';
import type { FrontPort, H2SessionState } from './front-port.ts';
import { fieldObject, requestTrailersToForward } from './request-trailers.ts';
import { localBody } from './local-body.ts';
import { resetStream } from './stream-reset.ts';

/** A request that arrived as an HTTP/2 stream (h2 over TLS inbound, h2c outbound). */
export class H2Exchange extends Exchange {
  readonly #stream: ServerHttp2Stream;
  readonly #session: H2SessionState;
  #trailersOut: string[] | null = null;

  constructor(front: FrontPort<Exchange>, conn: ConnInfo, session: H2SessionState, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]) {
    super(front, conn, session, String(headers[':method'] ?? 'GET'), String(headers[':path'] ?? ''));
    this.#stream = stream;
    this.#session = session;
    session.streams++;
    scanRequestHead(raw, this, front.droppedRequestHeaders);
    // HTTP/2 frames bodies itself: a body follows unless HEADERS ended the stream.
    this.hasBody = !stream.endAfterHeaders;
    tag(stream, this);
    if (this.hasBody) {
      this.body = stream;
      stream.on('trailers', onRequestTrailers);
    }
    stream.on('close', onStreamClose);
    stream.on('error', noop);
  }

  /**
   * True while trailers may still come with the request (RFC 9113 §8.1:
   * a trailer section ends the stream): the client has not ended its side
   * yet, or it sent trailers. An HTTP/2 upstream then opens its stream
   * with room for trailers; otherwise its last DATA frame ends the stream.
   */
  override requestTrailersPossible(): boolean {
    return this.requestTrailers !== null || this.#stream.state.remoteClose !== 1;
  }

  /** @internal */
  receivedTrailers(raw: string[]): void {
    this.requestTrailers = requestTrailersToForward(raw, this.front.droppedRequestHeaders);
  }

  /** The body ended with END_STREAM, not with a reset from the client. */
  override bodyComplete(): boolean {
    return !this.#stream.aborted;
  }

  /** @internal True when the client reset the stream before the request went anywhere. */
  get resetByClient(): boolean {
    return this.#stream.destroyed || this.#stream.closed;
  }

  protected sendHead(status: number): void {
    const s = this.#stream;
    if (s.destroyed || s.closed) return;
    // The head goes out as one raw list: the upstream's fields with the status in front.
    const head = this.responseHeaders;
    head.unshift(':status', String(status));
    if (this.responseHeadEndsStream) {
      s.respond(head, END_STREAM);
      return;
    }
    const waitForTrailers = this.responseChunked;
    s.respond(head, waitForTrailers ? WAIT_FOR_TRAILERS : NO_OPTIONS);
    if (waitForTrailers) s.on('wantTrailers', onWantTrailers);
  }

  protected writeBody(chunk: Buffer): boolean {
    return this.#stream.write(chunk);
  }

  protected endBody(trailers: string[] | null): void {
    this.#trailersOut = trailers;
    // A Trailers-Only response already ended the stream with its head.
    if (this.#stream.writableEnded) return;
    this.#stream.end();
  }

  protected sendLocal(status: number, body: string): void {
    const s = this.#stream;
    if (s.destroyed || s.closed || s.headersSent) return;
    this.status = status;
    const b = localBody(body);
    const head: Record<string, string | number> = { ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': b.length };
    const extra = this.localHeaders;
    for (let i = 0; i + 1 < extra.length; i += 2) head[extra[i]!.toLowerCase()] = extra[i + 1]!;
    s.respond(head);
    s.end(b);
    // The rest of the request body is not wanted: RST_STREAM(NO_ERROR) once
    // the answer is out, as RFC 9113 §8.1 provides for an early response.
    if (this.closeAfterLocal) s.close(h2constants.NGHTTP2_NO_ERROR);
  }

  protected abortDownstream(): void {
    // Never END_STREAM on a broken response: the client would take the
    // part it got for the whole response (stream-reset.ts).
    resetStream(this.#stream, 'response broken off');
  }

  protected waitForDrain(): void {
    this.#stream.once('drain', onStreamDrain);
  }

  headSent(): boolean {
    return this.#stream.headersSent;
  }

  /** @internal */
  sendTrailers(): void {
    // An empty trailer set makes node end the stream with an empty DATA frame.
    this.#stream.sendTrailers(fieldObject(this.#trailersOut));
  }

  /** @internal */
  closed(): void {
    this.#session.streams--;
    this.downstreamClosed();
  }
}

function onStreamClose(this: ServerHttp2Stream): void {
  (exchangeOf(this) as H2Exchange).closed();
}

function onStreamDrain(this: ServerHttp2Stream): void {
  exchangeOf(this).resumeUpstream();
}

function onWantTrailers(this: ServerHttp2Stream): void {
  (exchangeOf(this) as H2Exchange).sendTrailers();
}

function onRequestTrailers(this: ServerHttp2Stream, _t: IncomingHttpHeaders, _flags: number, raw: string[]): void {
  (exchangeOf(this) as H2Exchange).receivedTrailers(raw);
}

function noop(): void {}

const END_STREAM = Object.freeze({ endStream: true });
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true });
const NO_OPTIONS = Object.freeze({});
