import type { Agent } from 'undici';
import type { TlsClientCertificate } from './introspection-options.ts';

/**
 * The undici connection pool of one authorization-server client, presenting
 * a TLS client certificate (RFC 8705 §2) or none. A different certificate
 * object than last time (an SVID rotation) gets a new pool: open connections
 * keep the certificate they were made with, new ones present the current
 * one. Every connect, header and body wait is bounded by `timeoutMs`.
 */
export class ClientCertAgent {
  readonly #timeoutMs: number;
  readonly #ca: string | undefined;
  #agent: Agent | undefined;
  #cert: TlsClientCertificate | undefined;

  constructor(timeoutMs: number, ca: string | undefined) {
    this.#timeoutMs = timeoutMs;
    this.#ca = ca;
  }

  /** The pool for `cert` (undefined: no client certificate); `AgentClass` is undici's, loaded on first use. */
  current(AgentClass: typeof Agent, cert: TlsClientCertificate | undefined): Agent {
    if (this.#agent === undefined || cert !== this.#cert) {
      const old = this.#agent;
      this.#agent = new AgentClass({
        connect: {
          timeout: this.#timeoutMs,
          ...(this.#ca !== undefined ? { ca: this.#ca } : {}),
          ...(cert !== undefined ? { cert: cert.certChainPem, key: cert.keyPem } : {}),
        },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      this.#cert = cert;
      void old?.close().catch(() => undefined);
    }
    return this.#agent;
  }

  /** Destroys the pool's connections. */
  async destroy(): Promise<void> {
    const a = this.#agent;
    this.#agent = undefined;
    await a?.destroy();
  }
}
