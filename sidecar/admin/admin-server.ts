import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, formatAddress, nodeHttp, silentLogger, type Address, type Clock, type Logger } from '../core/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import { AdminError } from './admin-error.ts';
import { AdminRoutes, type DebugSources, type Readiness } from './admin-routes.ts';
import { AppProber, type AppProbeTarget } from './app-prober.ts';

/** Options for {@link AdminServer}. */
export interface AdminServerOptions {
  /** Where to listen; port 0 picks a free port (see the result of start()). */
  readonly listen: Address;
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
  readonly debug: DebugSources;
  /**
   * The app probes served under /app-probe/ (the injector's rewritten
   * kubelet probes); every other path there is 404. Default: none.
   */
  readonly appProbes?: readonly AppProbeTarget[];
  /** Times the app probes (default: the system clock). */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The admin listener is for probes and scrapes; small limits keep it cheap to abuse. */
const MAX_HEADER_BYTES = 8192;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const SOCKET_IDLE_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 128;

/**
 * The admin HTTP listener: `/healthz` (process alive), `/readyz` (ready for
 * traffic; 503 with reasons, or `draining`), `/metrics` (Prometheus),
 * `/debug/svid`, `/debug/config` and, when given, `/debug/listeners` and
 * `/debug/policy` (JSON, loopback peers only), and
 * `/app-probe/<port><path>` for the configured app probes only (answers in
 * {@link AdminRoutes}). GET and HEAD only. The constructor throws AdminError
 * 'admin.app_probes_invalid' for app probes it cannot serve. It may be
 * started again after stop().
 */
export class AdminServer {
  readonly #listen: AdminServerOptions['listen'];
  readonly #log: Logger;
  readonly #prober: AppProber;
  readonly #routes: AdminRoutes;
  readonly #server: Server;

  constructor(options: AdminServerOptions) {
    this.#listen = options.listen;
    this.#log = options.logger ?? silentLogger;
    this.#prober = new AppProber(options.appProbes ?? [], { logger: this.#log, ...(options.clock ? { clock: options.clock } : {}) });
    this.#routes = new AdminRoutes({
      metrics: options.metrics,
      readiness: options.readiness,
      debug: options.debug,
      prober: this.#prober,
      idleTimeoutMs: SOCKET_IDLE_TIMEOUT_MS,
      logger: this.#log,
    });
    this.#server = this.#createServer();
  }

  /** Starts listening; resolves with the bound port. Throws AdminError 'admin.listen_failed'. */
  start(): Promise<{ port: number }> {
    const { host, port } = this.#listen;
    const server = this.#server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new AdminError('admin.listen_failed', `admin: cannot listen on ${formatAddress(this.#listen)}: ${err.message}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.#log.error({ err: describeError(err) }, 'admin server error'));
        const bound = (server.address() as AddressInfo).port;
        this.#log.info({ host, port: bound, app_probes: this.#prober.paths() }, 'admin listening');
        resolve({ port: bound });
      });
    });
  }

  /** Stops listening and closes every connection (Prometheus keeps them alive). Safe to call twice. */
  stop(): Promise<void> {
    const server = this.#server;
    if (!server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** From now on /readyz answers 503 `draining`, so the kubelet stops sending traffic. */
  setDraining(): void {
    this.#routes.setDraining();
  }

  #createServer(): Server {
    const server = nodeHttp.createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
      (req, res) => this.#routes.handle(req, res),
    );
    server.maxConnections = MAX_CONNECTIONS;
    server.timeout = SOCKET_IDLE_TIMEOUT_MS;
    // One broken connection must never take the process down.
    server.on('connection', (socket: Socket) => {
      socket.on('error', (err) => this.#log.debug({ err: describeError(err) }, 'admin socket error'));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (err.code !== 'ECONNRESET' && socket.writable) {
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else {
        socket.destroy();
      }
    });
    return server;
  }
}

/** Creates an {@link AdminServer} (not yet listening); see there. */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  return new AdminServer(options);
}
