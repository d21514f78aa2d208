import { Readable } from 'node:stream';
import { lastChunk, serializeResponseHead, type MessageParser } from '../http1/index.ts';
import { Exchange, type ConnInfo, type ConnLoad, type ExchangeUpstream } from './exchange.ts';
import type { H1Downstream, H1DownstreamRequest } from './h1-downstream.ts';
import { scanRequestHead } from './hop-by-hop.ts';
import type { FrontPort } from './front-port.ts';
import { requestTrailersToForward } from './request-trailers.ts';
import { localBody } from './local-body.ts';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CHUNKED_LINE = 'transfer-encoding: chunked\r\n';
const CLOSE_LINE = 'connection: close\r\n';
const KEEP_ALIVE_LINE = 'connection: keep-alive\r\n';

/**
 * A request that arrived over HTTP/1.1 on an {@link H1Downstream}
 * connection. The response is framed here: Content-Length when the
 * upstream gave one, chunked otherwise (an HTTP/1.0 client gets a
 * close-delimited body instead), no body for HEAD, 1xx, 204 and 304
 * (RFC 9112 §6.3); `Expect: 100-continue` is answered when the request is
 * forwarded, so a refused request never gets a go-ahead for its body.
 */
export class H1Exchange extends Exchange implements H1DownstreamRequest {
  h1Out: (Buffer | string)[] | null = null;
  h1Done = false;
  readonly #down: H1Downstream;
  readonly #http10: boolean;
  readonly #keepAlive: boolean;
  #expectContinue: boolean;
  readonly #requestBody: H1RequestBody | null;
  /** The request body is chunked, the one HTTP/1.1 framing that can end with a trailer section (RFC 9112 §7.1.2). */
  readonly #chunkedRequest: boolean;
  #bodyEnded = false;
  #headSent = false;
  #chunked = false;
  #noBody = false;
  #closeAfter = false;
  #finished = false;

  constructor(front: FrontPort<Exchange>, conn: ConnInfo, load: ConnLoad, down: H1Downstream, p: MessageParser) {
    super(front, conn, load, p.method, p.target);
    this.#down = down;
    this.#http10 = p.versionMinor === 0;
    this.#keepAlive = p.keepAlive;
    this.#expectContinue = p.expectContinue;
    scanRequestHead(p.raw, this, front.droppedRequestHeaders);
    // The parser's framing is the truth (Content-Length: 0 has no body).
    this.hasBody = p.framing !== 'none';
    this.#chunkedRequest = p.framing === 'chunked';
    this.#requestBody = this.hasBody ? new H1RequestBody(down) : null;
    this.body = this.#requestBody;
  }

  override forwardTo(upstream: ExchangeUpstream): void {
    if (this.#expectContinue && this.hasBody && !this.#headSent && !this.clientGone) {
      // RFC 9110 §10.1.1: the go-ahead, now that the request will be read.
      this.#expectContinue = false;
      this.#down.write(this, CONTINUE);
    }
    super.forwardTo(upstream);
  }

  protected sendHead(status: number): void {
    const noBody = this.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    let extra = '';
    let close = !this.#keepAlive || this.front.draining;
    this.#chunked = false;
    if (!noBody && !hasContentLength(this.responseHeaders)) {
      if (this.#http10) close = true;
      else {
        this.#chunked = true;
        extra = CHUNKED_LINE;
      }
    }
    if (close) extra += CLOSE_LINE;
    else if (this.#http10) extra += KEEP_ALIVE_LINE;
    // Serialized first: an invalid field throws before anything is written.
    const head = serializeResponseHead(status, this.responseHeaders, extra);
    this.#noBody = noBody;
    this.#closeAfter = close;
    this.#headSent = true;
    this.#down.writeHead(this, head);
  }

  protected writeBody(chunk: Buffer): boolean {
    if (this.#noBody || this.#finished) return true;
    return this.#chunked ? this.#down.writeChunk(this, chunk) : this.#down.write(this, chunk);
  }

  protected endBody(trailers: string[] | null): void {
    if (this.#finished) return;
    if (this.#chunked && !this.#noBody) {
      let end: string;
      try {
        end = lastChunk(trailers);
      } catch {
        // A trailer that cannot be sent is dropped rather than breaking the response.
        end = lastChunk(null);
      }
      this.#down.write(this, end);
    }
    this.#finish();
  }

  protected sendLocal(status: number, body: string): void {
    if (this.#headSent || this.#finished) return;
    this.status = status;
    const b = localBody(body);
    const h = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(b.length), ...this.localHeaders];
    // Draining, or the rest of the request body will not be read: the connection ends after this answer.
    const close = !this.#keepAlive || this.front.draining || this.closeAfterLocal;
    let head: string;
    try {
      head = serializeResponseHead(status, h, close ? CLOSE_LINE : this.#http10 ? KEEP_ALIVE_LINE : '');
    } catch {
      head = serializeResponseHead(status, h.slice(0, 4), CLOSE_LINE);
    }
    this.#headSent = true;
    this.#closeAfter = close;
    this.#down.write(this, head);
    if (this.method !== 'HEAD') this.#down.write(this, b);
    this.#finish();
  }

  protected abortDownstream(): void {
    this.#down.destroy();
  }

  protected override flushHead(): void {
    this.#down.flushHead(this);
  }

  protected override flushHeadLater(): void {
    process.nextTick(flushHeadTick, this);
  }

  protected waitForDrain(): void {
    // The connection calls h1Writable when the socket drains or this response's turn comes.
  }

  headSent(): boolean {
    return this.#headSent;
  }

  /** The body ended with its last byte (Content-Length) or last chunk, not with the connection. */
  override bodyComplete(): boolean {
    return this.#bodyEnded;
  }

  /**
   * Bytes read on the connection: while a body streams nothing else moves
   * on an HTTP/1.1 connection, and reading the socket's counter costs
   * nothing per chunk.
   */
  override bodyProgress(): number {
    return this.#down.socket.bytesRead;
  }

  /** @internal */
  h1RequestBody(chunk: Buffer): void {
    const b = this.#requestBody;
    if (b !== null && !b.push(chunk)) this.#down.pauseBody();
  }

  /**
   * True while a trailer section may still come with the request: its
   * body is chunked and has not ended yet, or it ended with trailers to
   * forward. An HTTP/2 upstream then opens its stream with room for a
   * trailers HEADERS frame (h2-upstream.ts).
   */
  override requestTrailersPossible(): boolean {
    return this.#chunkedRequest && (!this.#bodyEnded || this.requestTrailers !== null);
  }

  /**
   * @internal The body ended. Its trailers go upstream with the field
   * filtering an HTTP/2 request's get (request-trailers.ts), set before
   * the body's end is pushed, so the upstream finds them when it ends its
   * side (a last chunk on HTTP/1.1, a HEADERS frame on HTTP/2).
   */
  h1RequestEnd(trailers: string[] | null): void {
    this.#bodyEnded = true;
    if (trailers !== null) this.requestTrailers = requestTrailersToForward(trailers, this.front.droppedRequestHeaders);
    this.#requestBody?.push(null);
  }

  /** @internal */
  h1ConnectionLost(): void {
    const b = this.#requestBody;
    if (b !== null && !this.#bodyEnded && !b.destroyed) b.destroy();
    this.#finished = true;
    this.downstreamClosed();
  }

  /** @internal */
  h1Writable(): void {
    this.resumeUpstream();
  }

  #finish(): void {
    this.#finished = true;
    this.#down.finish(this, this.#closeAfter);
    this.downstreamClosed();
  }
}

/** The request body as a stream for the upstream; reading it resumes the socket. */
class H1RequestBody extends Readable {
  readonly #down: H1Downstream;

  constructor(down: H1Downstream) {
    super();
    this.#down = down;
  }

  override _read(): void {
    this.#down.resumeBody();
  }
}

function flushHeadTick(ex: H1Exchange): void {
  ex.h1ReadEnd();
}

/** True when a Content-Length is among `headers`. */
function hasContentLength(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    if (n.length === 14 && n.toLowerCase() === 'content-length') return true;
  }
  return false;
}
