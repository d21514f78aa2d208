import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, silentLogger, systemClock, type Clock, type Logger, type TimerHandle } from '../core/index.ts';
import { reviewAdmission } from './admission-review.ts';
import { certificateFilesVersion, loadCertificatePair } from './certificate-files.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { InjectorError } from './injector-error.ts';

/** Options of {@link createWebhookServer}. */
export interface WebhookServerOptions {
  /** Port 0 picks a free port (see the result of start()). */
  readonly listen: { readonly host: string; readonly port: number };
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

/** A running (or not yet started) admission webhook. */
export interface WebhookServer {
  /** Loads the certificate and listens; throws 'injector.certificate_invalid' or 'injector.listen_failed'. */
  start(): Promise<{ port: number }>;
  /** Stops listening and closes every connection. Safe to call twice. */
  stop(): Promise<void>;
  /** Checks the certificate files now; resolves true when a new pair was installed. */
  checkCertificate(): Promise<boolean>;
}

/** The paths the MutatingWebhookConfiguration points at (docs/kubernetes.md). */
export const WEBHOOK_PATHS = {
  /** Pods opt in by annotation only. */
  inject: '/inject',
  /** The namespace carries spiffe-sidecar.io/inject=enabled (selected by the webhook's namespaceSelector). */
  injectNamespaceEnabled: '/inject/namespace-enabled',
  healthz: '/healthz',
} as const;

const DEFAULT_MAX_BODY = 3 * 1024 * 1024;
/** How much of a refused body is read and discarded, in multiples of the limit, before closing. */
const DISCARD_FACTOR = 4;

function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...extra });
  res.end(body);
}

/**
 * Creates the mutating admission webhook over HTTPS: `POST /inject` and
 * `POST /inject/namespace-enabled` answer AdmissionReviews (see
 * {@link reviewAdmission}), `GET /healthz` answers "ok". The certificate
 * files are re-read when they change; a broken new pair is logged and the
 * old one kept. No request can take the process down: bodies are bounded,
 * every socket and stream has an error listener, and handler failures turn
 * into HTTP 500.
 */
export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const log = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const interval = options.certCheckIntervalMs ?? 10_000;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let server: Server | undefined;
  let timer: TimerHandle | undefined;
  let certVersion = '';
  let stopped = false;
  const sockets = new Set<Socket>();

  function handleReview(req: IncomingMessage, res: ServerResponse, namespaceInjection: boolean): void {
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      sendText(res, 415, `injector: content-type must be application/json, got ${type}`);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    // Too large: answer 413 at once and stop buffering. The rest of the body
    // is read and thrown away, so a client still sending sees the answer
    // instead of a reset, but only up to a bound; past it, or once the answer
    // is out and the client stops, the connection is closed.
    const refuseTooLarge = (): void => {
      tooLarge = true;
      chunks.length = 0;
      sendText(res, 413, `injector: request body larger than ${maxBody} bytes`, { connection: 'close' });
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      if (declared > DISCARD_FACTOR * maxBody) res.once('finish', () => req.socket.destroy());
      refuseTooLarge();
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) {
        if (size > DISCARD_FACTOR * maxBody) req.socket.destroy();
        return;
      }
      if (size > maxBody) {
        refuseTooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return;
      let answer;
      try {
        answer = reviewAdmission(Buffer.concat(chunks).toString('utf8'), { settings: options.settings, namespaceInjection });
      } catch (err) {
        log.error({ err: describeError(err) }, 'admission review failed');
        sendText(res, 500, 'injector: internal error');
        return;
      }
      const fields = { uid: answer.uid, status: answer.status, outcome: answer.outcome };
      if (answer.status !== 200 || answer.outcome.startsWith('denied') || answer.outcome.startsWith('patched')) log.info(fields, 'admission review');
      else log.debug(fields, 'admission review');
      if (res.headersSent || res.destroyed) return;
      const body = Buffer.from(answer.body, 'utf8');
      res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': body.length });
      res.end(body);
    });
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', (err) => log.debug({ err: err.message }, 'request stream error'));
    res.on('error', (err) => log.debug({ err: err.message }, 'response stream error'));
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === WEBHOOK_PATHS.healthz) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
        return sendText(res, 200, 'ok');
      }
      if (path === WEBHOOK_PATHS.inject || path === WEBHOOK_PATHS.injectNamespaceEnabled) {
        if (req.method !== 'POST') {
          req.resume();
          return sendText(res, 405, 'method not allowed', { allow: 'POST' });
        }
        return handleReview(req, res, path === WEBHOOK_PATHS.injectNamespaceEnabled);
      }
      req.resume();
      sendText(res, 404, 'not found');
    } catch (err) {
      log.error({ err: describeError(err) }, 'webhook handler failed');
      sendText(res, 500, 'injector: internal error');
    }
  }

  async function checkCertificate(): Promise<boolean> {
    const version = await certificateFilesVersion(options.certFile, options.keyFile);
    if (version === certVersion || !server) return false;
    // Remember the version even when loading fails, so a broken pair is
    // logged once, not on every tick; the next change is tried again.
    certVersion = version;
    try {
      const pair = await loadCertificatePair(options.certFile, options.keyFile);
      server.setSecureContext({ cert: pair.cert, key: pair.key });
      log.info({ cert: options.certFile }, 'webhook certificate reloaded');
      return true;
    } catch (err) {
      log.error({ err: describeError(err) }, 'webhook certificate not reloaded; keeping the previous one');
      return false;
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      checkCertificate().then(schedule, (err: unknown) => {
        log.error({ err: describeError(err) }, 'certificate check failed');
        schedule();
      });
    }, interval);
  }

  return {
    async start() {
      certVersion = await certificateFilesVersion(options.certFile, options.keyFile);
      const pair = await loadCertificatePair(options.certFile, options.keyFile);
      const srv = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }, onRequest);
      server = srv;
      srv.headersTimeout = 10_000;
      srv.requestTimeout = 30_000;
      srv.keepAliveTimeout = 30_000;
      srv.maxHeadersCount = 100;
      srv.on('connection', (sock: Socket) => {
        sockets.add(sock);
        sock.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
        sock.on('close', () => sockets.delete(sock));
      });
      srv.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
      srv.on('clientError', (err, sock) => {
        log.debug({ err: err.message }, 'malformed HTTP request');
        sock.destroy();
      });
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(new InjectorError('injector.listen_failed', [`cannot listen on ${options.listen.host}:${options.listen.port}: ${err.message}`], { cause: err }));
        srv.once('error', onError);
        srv.listen(options.listen.port, options.listen.host, () => {
          srv.off('error', onError);
          srv.on('error', (err) => log.error({ err: err.message }, 'webhook server error'));
          resolve();
        });
      });
      schedule();
      const port = (srv.address() as AddressInfo).port;
      log.info({ host: options.listen.host, port }, 'webhook listening');
      return { port };
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    checkCertificate,
  };
}
