import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, silentLogger, type Clock, type Logger } from '../core/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import { AdminError } from './admin-error.ts';
import { APP_PROBE_PREFIX, AppProber, type AppProbeTarget } from './app-prober.ts';
import { debugJson } from './debug-json.ts';
import { isLoopbackPeer } from './loopback-peer.ts';

/** What /readyz reports: ready, or why not (one reason per line in the 503 body). */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

/** Options for {@link createAdminServer}. */
export interface AdminServerOptions {
  /** Where to listen; port 0 picks a free port (see the result of start()). */
  readonly listen: { readonly host: string; readonly port: number };
  readonly metrics: Pick<SidecarMetrics, 'contentType' | 'render'>;
  /** Asked on every /readyz; must be cheap and must not throw (a throw counts as not ready). */
  readonly readiness: () => Readiness;
  /**
   * Sources for the loopback-only debug endpoints; must never return private
   * keys. `listeners` (the listeners and whether each is bound, for
   * `spiffe-sidecar check`) is served at /debug/listeners when given; that
   * path is 404 otherwise. `policy` (the inbound policy as Policy.describe()
   * shows it, for `spiffe-sidecar explain --admin`) is served at
   * /debug/policy the same way.
   */
  readonly debug: { readonly svid: () => unknown; readonly config: () => unknown; readonly listeners?: () => unknown; readonly policy?: () => unknown };
  /**
   * The app probes served under /app-probe/ (the injector's rewritten
   * kubelet probes); every other path there is 404. Default: none.
   */
  readonly appProbes?: readonly AppProbeTarget[];
  /** Times the app probes (default: the system clock). */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** A running (or not yet started) admin listener. */
export interface AdminServer {
  /** Starts listening; resolves with the bound port. Throws AdminError 'admin.listen_failed'. */
  start(): Promise<{ port: number }>;
  /** Stops listening and closes every connection (Prometheus keeps them alive). Safe to call twice. */
  stop(): Promise<void>;
  /** From now on /readyz answers 503 `draining`, so the kubelet stops sending traffic. */
  setDraining(): void;
}

/** The admin listener is for probes and scrapes; small limits keep it cheap to abuse. */
const MAX_HEADER_BYTES = 8192;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const SOCKET_IDLE_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 128;
const ALLOW = 'GET, HEAD';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function send(req: IncomingMessage, res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'content-type': type,
    'content-length': bytes.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Creates the admin HTTP listener: `/healthz` (process alive), `/readyz`
 * (ready for traffic; 503 with reasons, or `draining`), `/metrics`
 * (Prometheus), `/debug/svid`, `/debug/config` and, when given,
 * `/debug/listeners` (JSON, loopback peers only), and `/app-probe/<port><path>` for the configured app probes only.
 * GET and HEAD only. Throws AdminError 'admin.app_probes_invalid' for
 * app probes it cannot serve.
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const log = options.logger ?? silentLogger;
  let draining = false;
  const prober = new AppProber(options.appProbes ?? [], { logger: log, ...(options.clock ? { clock: options.clock } : {}) });

  const appProbeRoute: Handler = async (req, res) => {
    const probe = prober.find(pathOf(req.url ?? ''));
    // Exact paths only: anything else under the prefix would make the admin
    // port a forwarder to any local port (docs/kubernetes.md "Probes").
    if (probe === undefined) return send(req, res, 404, 'not found: no app probe is configured for this path\n');
    // The idle timeout must not cut a probe that the app may take longer to answer.
    if (probe.timeoutMs >= SOCKET_IDLE_TIMEOUT_MS) {
      req.socket.setTimeout(probe.timeoutMs + 1_000);
      res.once('finish', () => req.socket.setTimeout(SOCKET_IDLE_TIMEOUT_MS));
    }
    const answer = await prober.probe(probe);
    send(req, res, answer.status, answer.body);
  };

  const debugRoute =
    (source: () => unknown): Handler =>
    (req, res) => {
      // The debug views describe our identity and setup; only someone already
      // on this host (kubectl exec / port-forward) may read them. The check
      // is on the TCP peer, never on headers a caller could forge.
      if (!isLoopbackPeer(req.socket.remoteAddress)) {
        send(req, res, 403, 'forbidden: debug endpoints answer only to loopback clients\n');
        return;
      }
      send(req, res, 200, debugJson(source()), 'application/json; charset=utf-8');
    };

  const routes = new Map<string, Handler>([
    ['/healthz', (req, res) => send(req, res, 200, 'ok\n')],
    [
      '/readyz',
      (req, res) => {
        if (draining) return send(req, res, 503, 'draining\n');
        let state: Readiness;
        try {
          state = options.readiness();
        } catch (err) {
          log.error({ err: describeError(err) }, 'readiness check failed');
          state = { ready: false, reasons: ['readiness check failed'] };
        }
        if (state.ready) return send(req, res, 200, 'ready\n');
        const reasons = state.reasons.length > 0 ? state.reasons : ['not ready'];
        send(req, res, 503, reasons.map((r) => r.replace(/[\r\n]+/g, ' ')).join('\n') + '\n');
      },
    ],
    [
      '/metrics',
      async (req, res) => {
        const text = await options.metrics.render();
        send(req, res, 200, text, options.metrics.contentType);
      },
    ],
    ['/debug/svid', debugRoute(() => options.debug.svid())],
    ['/debug/config', debugRoute(() => options.debug.config())],
  ]);
  const listeners = options.debug.listeners;
  if (listeners !== undefined) routes.set('/debug/listeners', debugRoute(listeners));
  const policy = options.debug.policy;
  if (policy !== undefined) routes.set('/debug/policy', debugRoute(policy));

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', (err) => log.debug({ err: describeError(err) }, 'admin request error'));
    res.on('error', (err) => log.debug({ err: describeError(err) }, 'admin response error'));
    const url = req.url ?? '';
    const path = pathOf(url);
    const handler = routes.get(path) ?? (path.startsWith(APP_PROBE_PREFIX) ? appProbeRoute : undefined);
    if (handler === undefined) return send(req, res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', ALLOW);
      return send(req, res, 405, 'method not allowed\n');
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        log.error({ err: describeError(err), path: url }, 'admin handler failed');
        if (!res.headersSent) send(req, res, 500, 'internal error\n');
        else res.destroy();
      });
  };

  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    onRequest,
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.timeout = SOCKET_IDLE_TIMEOUT_MS;
  // One broken connection must never take the process down.
  server.on('connection', (socket: Socket) => {
    socket.on('error', (err) => log.debug({ err: describeError(err) }, 'admin socket error'));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (err.code !== 'ECONNRESET' && socket.writable) {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  return {
    start() {
      const { host, port } = options.listen;
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => {
          reject(new AdminError('admin.listen_failed', `admin: cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
        };
        server.once('error', onError);
        server.listen({ host, port }, () => {
          server.off('error', onError);
          server.on('error', (err) => log.error({ err: describeError(err) }, 'admin server error'));
          const bound = (server.address() as AddressInfo).port;
          log.info({ host, port: bound, app_probes: prober.paths() }, 'admin listening');
          resolve({ port: bound });
        });
      });
    },
    stop() {
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    setDraining() {
      draining = true;
    },
  };
}
