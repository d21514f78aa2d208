import type { IncomingMessage, ServerResponse } from 'node:http';
import { plainTextAnswer } from './plain-text-answer.ts';

/** How much of a refused body is read and discarded, in multiples of the limit, before closing. */
const DISCARD_FACTOR = 4;

/**
 * The body of one AdmissionReview request, read up to `maxBytes`. A larger
 * body is answered 413 at once and no longer buffered. The rest of it is
 * read and thrown away, so a client still sending sees the answer instead
 * of a reset, but only up to a bound: past it, or once the answer is out
 * and a client that declared a huge body stops reading, the connection is
 * closed.
 */
export class ReviewBody {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #tooLarge = false;

  private constructor(req: IncomingMessage, res: ServerResponse, maxBytes: number) {
    this.#req = req;
    this.#res = res;
    this.#maxBytes = maxBytes;
  }

  /** Reads `req`'s body and calls `onBody` with it as text, unless it was too large (then 413 is already answered). */
  static read(req: IncomingMessage, res: ServerResponse, maxBytes: number, onBody: (text: string) => void): void {
    const body = new ReviewBody(req, res, maxBytes);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      if (declared > DISCARD_FACTOR * maxBytes) res.once('finish', () => req.socket.destroy());
      body.#refuse();
    }
    req.on('data', (chunk: Buffer) => body.#onData(chunk));
    req.on('end', () => {
      if (!body.#tooLarge) onBody(Buffer.concat(body.#chunks).toString('utf8'));
    });
  }

  #onData(chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#tooLarge) {
      if (this.#size > DISCARD_FACTOR * this.#maxBytes) this.#req.socket.destroy();
      return;
    }
    if (this.#size > this.#maxBytes) {
      this.#refuse();
      return;
    }
    this.#chunks.push(chunk);
  }

  #refuse(): void {
    this.#tooLarge = true;
    this.#chunks = [];
    plainTextAnswer(this.#res, 413, `injector: request body larger than ${this.#maxBytes} bytes`, { connection: 'close' });
  }
}
