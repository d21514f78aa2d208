import { Buffer } from 'node:buffer';
import type { Agent, Dispatcher } from 'undici';
import { describeError, loadUndici } from '../core/index.ts';
import { describeUrl } from './issuer-url.ts';
import { KeySetError } from './key-set-error.ts';
import { MAX_KEY_SET_BYTES } from './jwk-set.ts';

/** A successful answer from the issuer: the body (at most 256 KiB) and its Cache-Control. */
export interface IssuerResponse {
  readonly body: Buffer;
  readonly cacheControl: string | readonly string[] | undefined;
}

/** Options of {@link IssuerClient}. */
export interface IssuerClientOptions {
  /** Bounds connecting, waiting for headers and each body read (undici's timers; the caller also aborts at its own deadline). */
  readonly timeoutMs: number;
  /** PEM CA certificates replacing the system roots. */
  readonly ca?: string | undefined;
}

/** Which document is fetched; picks the error code for an oversized body. */
export type IssuerDocument = 'JWKS' | 'discovery document';

/**
 * GETs JSON documents from one issuer over its own undici Agent, so each
 * provider's TLS trust (`ca`) and connections stay separate and `close()`
 * ends them. Redirects are not followed (undici does not by default): a
 * key set served from somewhere else than configured is a failed fetch.
 */
export class IssuerClient {
  #agent: Agent | undefined;
  readonly #timeoutMs: number;
  readonly #ca: string | undefined;
  #closed = false;

  constructor(opts: IssuerClientOptions) {
    this.#timeoutMs = opts.timeoutMs;
    this.#ca = opts.ca;
  }

  /** Fetches `url`; throws KeySetError on any transport failure, a status other than 200, or a body over 256 KiB. */
  async get(url: URL, what: IssuerDocument, signal: AbortSignal): Promise<IssuerResponse> {
    const where = `auth: fetching the ${what} from ${describeUrl(url)}`;
    let res: Dispatcher.ResponseData;
    try {
      // undici loads with the first fetch, not at start-up (docs/benchmarks.md, "Memory and start-up budget").
      const undici = await loadUndici();
      if (this.#closed) throw new Error('the client is closed');
      this.#agent ??= new undici.Agent({
        connect: { timeout: this.#timeoutMs, ...(this.#ca !== undefined ? { ca: this.#ca } : {}) },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        connections: 2,
      });
      res = await undici.request(url, {
        dispatcher: this.#agent,
        method: 'GET',
        headers: { accept: 'application/json' },
        signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
    } catch (cause) {
      throw new KeySetError('auth.key_fetch_failed', `${where} failed: ${describeError(cause)}`, { cause });
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => {});
      throw new KeySetError('auth.key_fetch_failed', `${where} failed: HTTP status ${res.statusCode}`);
    }
    const tooLarge = () =>
      new KeySetError(what === 'JWKS' ? 'auth.bad_key_set' : 'auth.bad_discovery', `${where}: the body is larger than ${MAX_KEY_SET_BYTES} bytes`);
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > MAX_KEY_SET_BYTES) {
      res.body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_KEY_SET_BYTES) {
          res.body.destroy();
          throw tooLarge();
        }
        chunks.push(chunk);
      }
    } catch (cause) {
      if (cause instanceof KeySetError) throw cause;
      throw new KeySetError('auth.key_fetch_failed', `${where} failed while reading the body: ${describeError(cause)}`, { cause });
    }
    return { body: Buffer.concat(chunks, size), cacheControl: res.headers['cache-control'] };
  }

  /** Closes the agent's connections; pending requests fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#agent?.destroy().catch(() => {});
  }
}
