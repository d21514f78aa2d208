import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, formatAddress, silentLogger, systemClock, type Address, type Clock, type Logger } from '../core/index.ts';
import { reviewAdmission } from './admission-review.ts';
import { CertificateReloader } from './certificate-reloader.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { InjectorError } from './injector-error.ts';
import { plainTextAnswer } from './plain-text-answer.ts';
import { ReviewBody } from './review-body.ts';

/** Options of {@link WebhookServer}. */
export interface WebhookServerOptions {
  /** Port 0 picks a free port (see the result of start()). */
  readonly listen: Address;
  readonly certFile: string;
  readonly keyFile: string;
  readonly settings: InjectionSettings;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** How often the certificate files are checked for changes (default 10 s). */
  readonly certCheckIntervalMs?: number;
  /** Largest request body accepted (default 3 MiB, the API server's own request limit). */
  readonly maxBodyBytes?: number;
}

/** The paths the MutatingWebhookConfiguration points at (docs/kubernetes.md). */
export const WEBHOOK_PATHS = {
  /** Pods opt in by annotation only. */
  inject: '/inject',
  /** The namespace carries spiffe-sidecar.io/inject=enabled (selected by the webhook's namespaceSelector). */
  injectNamespaceEnabled: '/inject/namespace-enabled',
  healthz: '/healthz',
} as const;

/** Where a webhook server is in its life: it starts once and stops once. */
export type WebhookState = 'idle' | 'starting' | 'listening' | 'stopped';

const DEFAULT_MAX_BODY = 3 * 1024 * 1024;

/**
 * The mutating admission webhook over HTTPS: `POST /inject` and
 * `POST /inject/namespace-enabled` answer AdmissionReviews (see
 * {@link reviewAdmission}), `GET /healthz` answers "ok". The certificate
 * files are re-read when they change (a {@link CertificateReloader}); a
 * broken new pair is logged and the old one kept. No request can take the
 * process down: bodies are bounded, every socket and stream has an error
 * listener, and handler failures turn into HTTP 500.
 */
export class WebhookServer {
  readonly #o: WebhookServerOptions;
  readonly #log: Logger;
  readonly #maxBody: number;
  readonly #certificate: CertificateReloader;
  readonly #sockets = new Set<Socket>();
  #state: WebhookState = 'idle';
  #server: Server | undefined;

  constructor(options: WebhookServerOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.#certificate = new CertificateReloader({
      certFile: options.certFile,
      keyFile: options.keyFile,
      clock: options.clock ?? systemClock,
      intervalMs: options.certCheckIntervalMs ?? 10_000,
      logger: this.#log,
    });
  }

  /** Where it is in its life. */
  get state(): WebhookState {
    return this.#state;
  }

  /**
   * Loads the certificate and listens. Throws 'injector.certificate_invalid',
   * 'injector.listen_failed', or 'injector.already_started' when called
   * again or after stop().
   */
  async start(): Promise<{ port: number }> {
    if (this.#state !== 'idle') throw new InjectorError('injector.already_started', [`the webhook server is ${this.#state}; it starts once`]);
    this.#state = 'starting';
    try {
      const pair = await this.#certificate.load();
      const srv = this.#createServer(pair);
      await this.#listen(srv);
      if (this.#state !== 'starting') {
        // stop() ran while we were starting: do not leave a listener behind.
        await new Promise<void>((resolve) => srv.close(() => resolve()));
        throw new InjectorError('injector.already_started', ['the webhook server was stopped while it started']);
      }
      this.#server = srv;
      this.#state = 'listening';
    } catch (err) {
      if (this.#state === 'starting') this.#state = 'idle';
      throw err;
    }
    this.#certificate.watch(this.#server);
    const port = (this.#server.address() as AddressInfo).port;
    this.#log.info({ host: this.#o.listen.host, port }, 'webhook listening');
    return { port };
  }

  /** Stops listening and closes every connection. Safe to call twice, and before start(). */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    this.#certificate.stop();
    const srv = this.#server;
    this.#server = undefined;
    if (!srv) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }

  /** Checks the certificate files now; resolves true when a new pair was installed. */
  checkCertificate(): Promise<boolean> {
    return this.#certificate.check();
  }

  #createServer(pair: { readonly cert: Buffer; readonly key: Buffer }): Server {
    const srv = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }, (req, res) => this.#onRequest(req, res));
    srv.headersTimeout = 10_000;
    srv.requestTimeout = 30_000;
    srv.keepAliveTimeout = 30_000;
    srv.maxHeadersCount = 100;
    srv.on('connection', (sock: Socket) => this.#track(sock));
    srv.on('tlsClientError', (err) => this.#log.debug({ err: err.message }, 'TLS handshake failed'));
    srv.on('clientError', (err, sock) => {
      this.#log.debug({ err: err.message }, 'malformed HTTP request');
      sock.destroy();
    });
    return srv;
  }

  #listen(srv: Server): Promise<void> {
    const { host, port } = this.#o.listen;
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new InjectorError('injector.listen_failed', [`cannot listen on ${formatAddress(this.#o.listen)}: ${err.message}`], { cause: err }));
      srv.once('error', onError);
      srv.listen(port, host, () => {
        srv.off('error', onError);
        srv.on('error', (err) => this.#log.error({ err: err.message }, 'webhook server error'));
        resolve();
      });
    });
  }

  #track(sock: Socket): void {
    this.#sockets.add(sock);
    sock.on('error', (err) => this.#log.debug({ err: err.message }, 'socket error'));
    sock.on('close', () => this.#sockets.delete(sock));
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', (err) => this.#log.debug({ err: err.message }, 'request stream error'));
    res.on('error', (err) => this.#log.debug({ err: err.message }, 'response stream error'));
    try {
      this.#route(req, res);
    } catch (err) {
      this.#log.error({ err: describeError(err) }, 'webhook handler failed');
      plainTextAnswer(res, 500, 'injector: internal error');
    }
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === WEBHOOK_PATHS.healthz) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return plainTextAnswer(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
      return plainTextAnswer(res, 200, 'ok');
    }
    if (path !== WEBHOOK_PATHS.inject && path !== WEBHOOK_PATHS.injectNamespaceEnabled) {
      req.resume();
      return plainTextAnswer(res, 404, 'not found');
    }
    if (req.method !== 'POST') {
      req.resume();
      return plainTextAnswer(res, 405, 'method not allowed', { allow: 'POST' });
    }
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      plainTextAnswer(res, 415, `injector: content-type must be application/json, got ${type}`);
      req.resume();
      return;
    }
    const namespaceInjection = path === WEBHOOK_PATHS.injectNamespaceEnabled;
    ReviewBody.read(req, res, this.#maxBody, (text) => this.#review(res, text, namespaceInjection));
  }

  #review(res: ServerResponse, text: string, namespaceInjection: boolean): void {
    let answer;
    try {
      answer = reviewAdmission(text, { settings: this.#o.settings, namespaceInjection });
    } catch (err) {
      this.#log.error({ err: describeError(err) }, 'admission review failed');
      plainTextAnswer(res, 500, 'injector: internal error');
      return;
    }
    const fields = { uid: answer.uid, status: answer.status, outcome: answer.outcome };
    if (answer.status !== 200 || answer.outcome.startsWith('denied') || answer.outcome.startsWith('patched')) this.#log.info(fields, 'admission review');
    else this.#log.debug(fields, 'admission review');
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(answer.body, 'utf8');
    res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': body.length });
    res.end(body);
  }
}

/** Creates a {@link WebhookServer} (not yet listening). */
export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  return new WebhookServer(options);
}
