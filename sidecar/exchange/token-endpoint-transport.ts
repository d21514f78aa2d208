import { Buffer } from 'node:buffer';
import type { Agent } from 'undici';
import { describeError, loadUndici } from '../core/index.ts';
import { basicAuthorization, ClientCertAgent, type ClientSecretFile, type TlsClientCertificate } from '../auth/index.ts';
import { TokenExchangeError } from './token-exchange-error.ts';
import type { ExchangeClientAuth } from './token-exchange-options.ts';

/** A reply of the token endpoint: status and the whole body (bounded). */
export interface TokenEndpointReply {
  readonly status: number;
  readonly body: Buffer;
}

/** Options of {@link TokenEndpointTransport}. */
export interface TokenEndpointTransportOptions {
  readonly endpoint: URL;
  readonly clientAuth: ExchangeClientAuth;
  readonly secret: ClientSecretFile | undefined;
  /** Read per new connection pool; a new object (SVID rotation) gets a new pool. */
  readonly clientCertificate: (() => TlsClientCertificate) | undefined;
  readonly ca: string | undefined;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
}

/**
 * Form POSTs to one token endpoint with the configured client
 * authentication: HTTP Basic or form fields with a secret (RFC 6749
 * §2.3.1), or the SVID as the TLS client certificate with `client_id` in
 * the form (RFC 8705 §2). Bounded in time and size; every failure to get a
 * reply is 'exchange.unavailable', naming the endpoint without secrets.
 */
export class TokenEndpointTransport {
  readonly #o: TokenEndpointTransportOptions;
  readonly #agents: ClientCertAgent;
  #closed = false;

  constructor(o: TokenEndpointTransportOptions) {
    this.#o = o;
    this.#agents = new ClientCertAgent(o.timeoutMs, o.ca);
  }

  /** POSTs `form` with client authentication added. */
  async post(form: URLSearchParams): Promise<TokenEndpointReply> {
    const o = this.#o;
    const where = `POST ${o.endpoint.origin}${o.endpoint.pathname}`;
    const fail = (why: string, cause?: unknown): TokenExchangeError =>
      new TokenExchangeError('exchange.unavailable', `exchange: ${where} ${why}`, cause === undefined ? {} : { cause });
    // undici loads with the first request, not at start-up (docs/benchmarks.md, "Memory and start-up budget");
    // before the closed check, so a close() during the first import is seen.
    const undici = await loadUndici();
    if (this.#closed) throw fail('not sent: the client is closed');
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const auth = o.clientAuth;
    if (auth.method === 'client_secret_basic') headers['authorization'] = basicAuthorization(auth.clientId, o.secret!.value);
    else {
      form.set('client_id', auth.clientId);
      if (auth.method === 'client_secret_post') form.set('client_secret', o.secret!.value);
    }
    let agent: Agent;
    try {
      agent = this.#currentAgent(undici.Agent);
    } catch (cause) {
      throw fail(`not sent: no client certificate (${describeError(cause)})`, cause);
    }
    const signal = AbortSignal.timeout(o.timeoutMs);
    try {
      const res = await agent.request({ origin: o.endpoint.origin, path: o.endpoint.pathname, method: 'POST', headers, body: form.toString(), signal });
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.body) {
        total += (chunk as Buffer).length;
        if (total > o.maxBodyBytes) {
          res.body.destroy();
          throw fail(`answered with more than ${o.maxBodyBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return { status: res.statusCode, body: Buffer.concat(chunks, total) };
    } catch (err) {
      if (err instanceof TokenExchangeError) throw err;
      if (signal.aborted) throw fail(`did not complete within ${o.timeoutMs} ms`, err);
      throw fail(`failed: ${describeError(err)}`, err);
    }
  }

  /** Closes the connections; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#agents.destroy();
  }

  #currentAgent(AgentClass: typeof Agent): Agent {
    const certOf = this.#o.clientCertificate;
    const tls = this.#o.clientAuth.method === 'tls_client_auth' || this.#o.clientAuth.method === 'self_signed_tls_client_auth';
    const cert = tls && certOf !== undefined ? certOf() : undefined;
    if (tls && cert === undefined) throw new Error('the TLS client authentication methods need the SVID');
    return this.#agents.current(AgentClass, cert);
  }
}

