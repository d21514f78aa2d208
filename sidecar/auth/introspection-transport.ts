import { Buffer } from 'node:buffer';
import type { Agent } from 'undici';
import { describeError, loadUndici } from '../core/index.ts';
import { IntrospectionError } from './introspection-error.ts';
import type { IntrospectionClientAuth, TlsClientCertificate } from './introspection-options.ts';
import type { ClientSecretFile } from './client-secret-file.ts';
import { ClientCertAgent } from './client-cert-agent.ts';

/** What came back from the authorization server: status, media type (lower case, no parameters) and the whole body. */
export interface HttpReply {
  readonly status: number;
  readonly mediaType: string;
  readonly body: Buffer;
}

/** Options of {@link IntrospectionTransport}. */
export interface IntrospectionTransportOptions {
  readonly provider: string;
  readonly clientAuth: IntrospectionClientAuth;
  /** The client secret for the client_secret_* methods. */
  readonly secret: ClientSecretFile | undefined;
  readonly ca: string | undefined;
  /** Bound on each whole exchange (connect, send, headers, body). */
  readonly timeoutMs: number;
}

/**
 * The HTTP client towards one authorization server: form POSTs with the
 * configured client authentication (RFC 6749 §2.3.1, RFC 8705 §2) and plain
 * GETs for discovery and keys. Every call is bounded in time and in body
 * size, and every failure (connection refused, TLS, timeout, oversized body)
 * is an IntrospectionError 'introspection.unavailable' naming the URL without
 * query; tokens and secrets never appear in errors.
 */
export class IntrospectionTransport {
  readonly #o: IntrospectionTransportOptions;
  readonly #agents: ClientCertAgent;
  #closed = false;

  constructor(o: IntrospectionTransportOptions) {
    this.#o = o;
    this.#agents = new ClientCertAgent(o.timeoutMs, o.ca);
  }

  /**
   * POSTs `form` (application/x-www-form-urlencoded) with client
   * authentication added, asking for `accept`.
   */
  postForm(url: URL, form: Record<string, string>, accept: string, maxBytes: number): Promise<HttpReply> {
    const auth = this.#o.clientAuth;
    const params = new URLSearchParams(form);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept };
    switch (auth.method) {
      case 'client_secret_basic':
        headers['authorization'] = basicAuthorization(auth.clientId, this.#o.secret!.value);
        break;
      case 'client_secret_post':
        params.set('client_id', auth.clientId);
        params.set('client_secret', this.#o.secret!.value);
        break;
      default:
        // RFC 8705 §2.1/§2.2: the certificate authenticates; client_id says which client.
        params.set('client_id', auth.clientId);
    }
    return this.#send(url, 'POST', headers, params.toString(), maxBytes);
  }

  /** GETs `url` (discovery document, JWK Set) without client authentication. */
  get(url: URL, accept: string, maxBytes: number): Promise<HttpReply> {
    return this.#send(url, 'GET', { accept }, undefined, maxBytes);
  }

  /** Closes the connections; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#agents.destroy();
  }

  async #send(url: URL, method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, maxBytes: number): Promise<HttpReply> {
    const where = `${method} ${url.origin}${url.pathname}`;
    const fail = (why: string, cause?: unknown): IntrospectionError =>
      new IntrospectionError('introspection.unavailable', `introspection: provider ${this.#o.provider}: ${where} ${why}`, cause === undefined ? {} : { cause });
    // undici loads with the first request, not at start-up (docs/benchmarks.md, "Memory and start-up budget");
    // before the closed check, so a close() during the first import is seen.
    const undici = await loadUndici();
    if (this.#closed) throw fail('not sent: the verifier is closed');
    let agent: Agent;
    try {
      agent = this.#currentAgent(undici.Agent);
    } catch (cause) {
      throw fail(`not sent: no client certificate (${describeError(cause)})`, cause);
    }
    const signal = AbortSignal.timeout(this.#o.timeoutMs);
    try {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname,
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal,
        headersTimeout: this.#o.timeoutMs,
        bodyTimeout: this.#o.timeoutMs,
      });
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.body.destroy();
        throw fail(`answered with ${declared} bytes, more than ${maxBytes}`);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        total += b.length;
        if (total > maxBytes) {
          res.body.destroy();
          throw fail(`answered with more than ${maxBytes} bytes`);
        }
        chunks.push(b);
      }
      return { status: res.statusCode, mediaType: mediaType(res.headers['content-type']), body: Buffer.concat(chunks, total) };
    } catch (err) {
      if (err instanceof IntrospectionError) throw err;
      if (signal.aborted) throw fail(`did not complete within ${this.#o.timeoutMs} ms`, err);
      throw fail(`failed: ${describeError(err)}`, err);
    }
  }

  #currentAgent(AgentClass: typeof Agent): Agent {
    const auth = this.#o.clientAuth;
    const tls = auth.method === 'tls_client_auth' || auth.method === 'self_signed_tls_client_auth';
    return this.#agents.current(AgentClass, tls ? auth.clientCertificate() : undefined);
  }
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined and base64-encoded. */
export function basicAuthorization(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')}`;
}

function formEncode(s: string): string {
  return new URLSearchParams([['', s]]).toString().slice(1);
}

function mediaType(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return (v ?? '').split(';')[0]!.trim().toLowerCase();
}
