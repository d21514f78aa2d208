import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError, type Logger } from '../core/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import { APP_PROBE_PREFIX, type AppProber } from './app-prober.ts';
import { debugJson } from './debug-json.ts';
import { isLoopbackPeer } from './loopback-peer.ts';

/** What /readyz reports: ready, or why not (one reason per line in the 503 body). */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

/** The loopback-only debug views: callbacks that must never return private keys. */
export interface DebugSources {
  readonly svid: () => unknown;
  readonly config: () => unknown;
  /** The listeners and whether each is bound (for `spiffe-sidecar check`); /debug/listeners is 404 without it. */
  readonly listeners?: () => unknown;
  /** The inbound policy as Policy.describe() shows it (for `explain --admin`); /debug/policy is 404 without it. */
  readonly policy?: () => unknown;
}

/** What {@link AdminRoutes} answers from. */
export interface AdminRoutesOptions {
  readonly metrics: Pick<SidecarMetrics, 'contentType' | 'render'>;
  /** Asked on every /readyz; must be cheap and must not throw (a throw counts as not ready). */
  readonly readiness: () => Readiness;
  readonly debug: DebugSources;
  readonly prober: AppProber;
  /** The socket idle timeout of the listener, stretched for an app probe that may take longer. */
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const ALLOW = 'GET, HEAD';

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
 * The admin listener's answers: `/healthz`, `/readyz` (503 with reasons, or
 * `draining` once {@link setDraining} was called), `/metrics`, the
 * loopback-only `/debug/*` views and the configured app probes under
 * `/app-probe/`. GET and HEAD only; a handler that fails is a 500, never a
 * crash. Traffic state: `accepting`, then `draining` for good.
 */
export class AdminRoutes {
  readonly #o: AdminRoutesOptions;
  readonly #routes: ReadonlyMap<string, Handler>;
  #traffic: 'accepting' | 'draining' = 'accepting';

  constructor(o: AdminRoutesOptions) {
    this.#o = o;
    const routes = new Map<string, Handler>([
      ['/healthz', (req, res) => send(req, res, 200, 'ok\n')],
      ['/readyz', (req, res) => this.#readyz(req, res)],
      ['/metrics', (req, res) => this.#metrics(req, res)],
      ['/debug/svid', this.#debug(o.debug.svid)],
      ['/debug/config', this.#debug(o.debug.config)],
    ]);
    if (o.debug.listeners !== undefined) routes.set('/debug/listeners', this.#debug(o.debug.listeners));
    if (o.debug.policy !== undefined) routes.set('/debug/policy', this.#debug(o.debug.policy));
    this.#routes = routes;
  }

  /** From now on /readyz answers 503 `draining`, so the kubelet stops sending traffic. */
  setDraining(): void {
    this.#traffic = 'draining';
  }

  /** Answers one request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const log = this.#o.logger;
    req.on('error', (err) => log.debug({ err: describeError(err) }, 'admin request error'));
    res.on('error', (err) => log.debug({ err: describeError(err) }, 'admin response error'));
    const url = req.url ?? '';
    const path = pathOf(url);
    const handler = this.#routes.get(path) ?? (path.startsWith(APP_PROBE_PREFIX) ? this.#appProbe : undefined);
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
  }

  #readyz(req: IncomingMessage, res: ServerResponse): void {
    if (this.#traffic === 'draining') return send(req, res, 503, 'draining\n');
    let state: Readiness;
    try {
      state = this.#o.readiness();
    } catch (err) {
      this.#o.logger.error({ err: describeError(err) }, 'readiness check failed');
      state = { ready: false, reasons: ['readiness check failed'] };
    }
    if (state.ready) return send(req, res, 200, 'ready\n');
    const reasons = state.reasons.length > 0 ? state.reasons : ['not ready'];
    send(req, res, 503, reasons.map((r) => r.replace(/[\r\n]+/g, ' ')).join('\n') + '\n');
  }

  async #metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await this.#o.metrics.render();
    send(req, res, 200, text, this.#o.metrics.contentType);
  }

  #debug(source: () => unknown): Handler {
    return (req, res) => {
      // The debug views describe our identity and setup; only someone already
      // on this host (kubectl exec / port-forward) may read them. The check
      // is on the TCP peer, never on headers a caller could forge.
      if (!isLoopbackPeer(req.socket.remoteAddress)) {
        send(req, res, 403, 'forbidden: debug endpoints answer only to loopback clients\n');
        return;
      }
      send(req, res, 200, debugJson(source()), 'application/json; charset=utf-8');
    };
  }

  readonly #appProbe: Handler = async (req, res) => {
    const prober = this.#o.prober;
    const probe = prober.find(pathOf(req.url ?? ''));
    // Exact paths only: anything else under the prefix would make the admin
    // port a forwarder to any local port (docs/kubernetes.md "Probes").
    if (probe === undefined) return send(req, res, 404, 'not found: no app probe is configured for this path\n');
    // The idle timeout must not cut a probe that the app may take longer to answer.
    const idle = this.#o.idleTimeoutMs;
    if (probe.timeoutMs >= idle) {
      req.socket.setTimeout(probe.timeoutMs + 1_000);
      res.once('finish', () => req.socket.setTimeout(idle));
    }
    const answer = await prober.probe(probe);
    send(req, res, answer.status, answer.body);
  };
}
