import type { Duplex } from 'node:stream';
import { serializeResponseHead, type MessageParser } from '../http1/index.ts';
import { Exchange, exchangeOf, tag, type ConnInfo, type ConnLoad } from './exchange.ts';
import { scanRequestHead } from './hop-by-hop.ts';
import type { FrontPort } from './front-port.ts';
import { localBody } from './local-body.ts';

/**
 * An HTTP/1.1 WebSocket request (`Connection: upgrade`, `Upgrade:
 * websocket`), which the downstream connection hands over with its socket. Policy and identity headers
 * apply to it like any request. A 101 from the upstream turns the two
 * sockets into one byte pipe; any other answer is relayed and the
 * connection closed (its framing cannot be reused after an upgrade attempt).
 */
export class UpgradeExchange extends Exchange {
  readonly #socket: Duplex;
  readonly #head: Buffer;
  #upSocket: Duplex | null = null;
  #headSent = false;

  constructor(front: FrontPort<Exchange>, conn: ConnInfo, load: ConnLoad, p: MessageParser, socket: Duplex, head: Buffer) {
    super(front, conn, load, p.method, p.target);
    this.#socket = socket;
    this.#head = head;
    scanRequestHead(p.raw, this, front.droppedRequestHeaders);
    this.hasBody = false;
    tag(socket, this);
    socket.on('error', noop);
    socket.on('close', onDownClose);
  }

  protected sendHead(status: number): void {
    this.#writeHead(status, this.responseHeaders.concat('connection', 'close'));
  }

  protected writeBody(chunk: Buffer): boolean {
    return this.#socket.write(chunk);
  }

  protected endBody(): void {
    this.#socket.end();
  }

  protected sendLocal(status: number, body: string): void {
    if (this.#socket.destroyed) return;
    this.status = status;
    const b = localBody(body);
    this.#writeHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(b.length), ...this.localHeaders, 'connection', 'close']);
    this.#socket.end(b);
  }

  protected abortDownstream(): void {
    this.#socket.destroy();
  }

  protected waitForDrain(): void {
    this.#socket.once('drain', onDownDrain);
  }

  headSent(): boolean {
    return this.#headSent;
  }

  protected override upgraded(up: Duplex): void {
    const down = this.#socket;
    this.#upSocket = up;
    tag(up, this);
    up.on('error', noop);
    up.on('close', onUpClose);
    if (down.destroyed) {
      up.destroy();
      return;
    }
    try {
      this.#writeHead(this.status, this.responseHeaders);
    } catch {
      // A 101 head the client could not parse safely: no tunnel.
      up.destroy();
      down.destroy();
      return;
    }
    // Bytes the client sent after its request head belong to the new protocol.
    if (this.#head.length > 0) up.write(this.#head);
    up.pipe(down);
    down.pipe(up);
  }

  /** @internal */
  downClosed(): void {
    this.#upSocket?.destroy();
    this.downstreamClosed();
  }

  /** @internal */
  upClosed(): void {
    this.#socket.destroy();
  }

  #writeHead(status: number, headers: readonly string[]): void {
    const head = serializeResponseHead(status, headers, '');
    this.#headSent = true;
    this.#socket.write(head, 'latin1');
  }
}

function onDownClose(this: Duplex): void {
  (exchangeOf(this) as UpgradeExchange).downClosed();
}

function onUpClose(this: Duplex): void {
  (exchangeOf(this) as UpgradeExchange).upClosed();
}

function onDownDrain(this: Duplex): void {
  exchangeOf(this).resumeUpstream();
}

function noop(): void {}
