import { constants as h2constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Exchange, exchangeOf, tag, type ConnInfo } from './exchange.ts';
import { ForwardError } from './forward-error.ts';
import { scanRequestHead } from './hop-by-hop.ts';
import type { HttpFront, H2SessionState } from './http-front.ts';
import { localBody } from './local-body.ts';
import { resetStream } from './stream-reset.ts';

/** A request that arrived as an HTTP/2 stream (h2 over TLS inbound, h2c outbound). */
export class H2Exchange extends Exchange {
  readonly #stream: ServerHttp2Stream;
  readonly #session: H2SessionState;
  #trailersOut: string[] | null = null;

  constructor(front: HttpFront, conn: ConnInfo, session: H2SessionState, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]) {
    super(front, conn, session, String(headers[':method'] ?? 'GET'), String(headers[':path'] ?? ''));
    this.#stream = stream;
    this.#session = session;
    session.streams++;
    scanRequestHead(raw, this, front.droppedRequestHeaders);
    // HTTP/2 frames bodies itself: a body follows unless HEADERS ended the stream.
    this.hasBody = !stream.endAfterHeaders;
    if (this.hasBody) this.body = stream;
    tag(stream, this);
    stream.on('close', onStreamClose);
    stream.on('error', noop);
  }

  /**
   * Why an iterator and not the stream: undici destroys a body stream whose
   * readable state has no autoDestroy when it ends, and an Http2Stream has
   * none, so the whole stream (response included) would be reset once the
   * request body was sent. The iterator is wrapped to count the body for
   * UploadWatch and to fail when a reset, not END_STREAM, ended it: node
   * ends a stream's readable side on RST_STREAM, and undici would then
   * send the app a complete request (stream-reset.ts).
   */
  protected override undiciBody(): AsyncIterable<Buffer> {
    return checkedBody(this, this.#stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>);
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
    if (this.responseHeadEndsStream) {
      s.respond([':status', String(status)].concat(this.responseHeaders), { endStream: true });
      return;
    }
    const waitForTrailers = this.responseChunked;
    s.respond([':status', String(status)].concat(this.responseHeaders), { waitForTrailers });
    if (waitForTrailers) s.once('wantTrailers', onWantTrailers);
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
    this.#stream.sendTrailers(toObject(this.#trailersOut));
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

function noop(): void {}

/** The request body for undici: counted, and refused at its end when a reset ended it. */
async function* checkedBody(ex: H2Exchange, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    ex.bodyBytes += chunk.length;
    yield chunk;
  }
  if (!ex.bodyComplete()) throw new ForwardError('forward.cancelled', 'request body cut off by a stream reset');
}

function toObject(flat: readonly string[] | null): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (flat === null) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
