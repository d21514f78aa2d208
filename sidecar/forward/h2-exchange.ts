import { constants as h2constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Exchange, exchangeOf, tag, type ConnInfo } from './exchange.ts';
import { scanRequestHead } from './hop-by-hop.ts';
import type { HttpFront, H2SessionState } from './http-front.ts';
import { localBody } from './local-body.ts';

/** A request that arrived as an HTTP/2 stream (h2 over TLS inbound, h2c outbound). */
export class H2Exchange extends Exchange {
  readonly #stream: ServerHttp2Stream;
  readonly #session: H2SessionState;
  #trailersOut: string[] | null = null;

  constructor(front: HttpFront, conn: ConnInfo, session: H2SessionState, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]) {
    super(front, conn, String(headers[':method'] ?? 'GET'), String(headers[':path'] ?? ''));
    this.#stream = stream;
    this.#session = session;
    session.streams++;
    scanRequestHead(raw, this);
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
   * request body was sent.
   */
  protected override undiciBody(): AsyncIterable<Buffer> {
    return this.#stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
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
    s.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': b.length });
    s.end(b);
  }

  protected abortDownstream(): void {
    if (!this.#stream.closed) this.#stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
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
