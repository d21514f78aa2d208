import type { IncomingMessage, ServerResponse } from 'node:http';
import { Exchange, exchangeOf, tag, type ConnInfo, type ConnLoad } from './exchange.ts';
import { scanRequestHead } from './hop-by-hop.ts';
import type { HttpFront } from './http-front.ts';
import { localBody } from './local-body.ts';

/** A request that arrived over HTTP/1.1 (node:http's req/res). */
export class H1Exchange extends Exchange {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;

  constructor(front: HttpFront, conn: ConnInfo, load: ConnLoad, req: IncomingMessage, res: ServerResponse) {
    super(front, conn, load, req.method ?? 'GET', req.url ?? '/');
    this.#req = req;
    this.#res = res;
    scanRequestHead(req.rawHeaders, this, front.droppedRequestHeaders);
    if (this.hasBody) this.body = req;
    tag(res, this);
    res.on('close', onResClose);
    req.on('error', noop);
  }

  protected sendHead(status: number): void {
    const h = this.responseHeaders;
    // Draining: tell the client this connection ends after this response.
    if (this.front.draining) h.push('connection', 'close');
    this.#res.writeHead(status, h);
  }

  protected writeBody(chunk: Buffer): boolean {
    return this.#res.write(chunk);
  }

  /** node:http emits 'end' only for a body that arrived whole; checked all the same. */
  override bodyComplete(): boolean {
    return this.#req.complete;
  }

  /**
   * Bytes read on the connection: while a body streams nothing else moves
   * on an HTTP/1.1 connection, and reading the socket's counter needs no
   * listener on the body (undici reads it, and a second 'data' listener
   * would start it flowing before undici is there).
   */
  override bodyProgress(): number {
    return this.#req.socket?.bytesRead ?? 0;
  }

  protected endBody(trailers: string[] | null): void {
    // HTTP/1.1 can carry trailers only in a chunked body.
    if (trailers !== null && this.responseChunked) this.#res.addTrailers(pairs(trailers));
    this.#res.end();
  }

  protected sendLocal(status: number, body: string): void {
    const res = this.#res;
    if (res.destroyed) return;
    this.status = status;
    const b = localBody(body);
    const h = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(b.length), ...this.localHeaders];
    // Draining, or the rest of the request body will not be read: the connection ends after this answer.
    if (this.front.draining || this.closeAfterLocal) h.push('connection', 'close');
    res.writeHead(status, h);
    res.end(b);
  }

  protected abortDownstream(): void {
    this.#res.destroy();
  }

  protected waitForDrain(): void {
    this.#res.once('drain', onResDrain);
  }

  headSent(): boolean {
    return this.#res.headersSent;
  }

  /** @internal */
  closed(): void {
    this.downstreamClosed();
  }

  /** The request object, for tests and the upgrade path. */
  get request(): IncomingMessage {
    return this.#req;
  }
}

function onResClose(this: ServerResponse): void {
  (exchangeOf(this) as H1Exchange).closed();
}

function onResDrain(this: ServerResponse): void {
  exchangeOf(this).resumeUpstream();
}

function noop(): void {}

/** Flat name/value list to the [name, value] tuples res.addTrailers takes. */
function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
