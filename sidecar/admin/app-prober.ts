import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';
import { describeError, nodeHttp, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { AdminError } from './admin-error.ts';

/** The admin path prefix of app probes (the injector's half of the contract is in sidecar/injector/probe-rewrite.ts). */
export const APP_PROBE_PREFIX = '/app-probe/';

/** One app probe the admin listener may forward (docs/kubernetes.md "Probes"). */
export interface AppProbeTarget {
  /** The app's port on 127.0.0.1. */
  readonly port: number;
  /** The request-target sent to the app: starts with '/', may carry a query. */
  readonly target: string;
  /** Request headers sent to the app; nothing the caller sends is forwarded. */
  readonly headers?: readonly { readonly name: string; readonly value: string }[];
  /** How long the app gets to answer before the probe fails with 503. */
  readonly timeoutMs: number;
}

/** What the admin listener answers to a probe: the app's status, or 503. */
export interface AppProbeAnswer {
  readonly status: number;
  /** A short description; never the app's own body. */
  readonly body: string;
}

/** Announces the forwarded request as a kubelet probe, for apps that log or route those apart. */
const USER_AGENT = 'kube-probe/spiffe-sidecar';
/** Statuses whose responses carry no body (RFC 9110 §15.3.5, §15.4.5). */
const NO_BODY = new Set([204, 304]);

/** Drops the query: served probes are found by path alone. */
function pathOnly(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** The admin path the kubelet requests for `probe`, without the probe's query. */
export function appProbePath(port: number, target: string): string {
  return `${APP_PROBE_PREFIX}${port}${pathOnly(target)}`;
}

/**
 * Forwards the kubelet's rewritten httpGet probes to the app, for the
 * configured probes only. The admin port is reachable from other pods, so
 * a forwarder of any port and path would let them reach the app around the
 * inbound mTLS listener and its policy (Istio's agent serves only the
 * probes listed in ISTIO_KUBE_APP_PROBERS for the same reason). The caller
 * chooses neither the port, the target, the headers nor a body: the probe
 * is a fixed GET, found by exact path.
 */
export class AppProber {
  readonly #byPath = new Map<string, AppProbeTarget>();
  readonly #clock: Clock;
  readonly #log: Logger;

  /** Throws AdminError 'admin.app_probes_invalid' for a bad port or target, or two probes on one path. */
  constructor(probes: readonly AppProbeTarget[], opts: { readonly clock?: Clock; readonly logger?: Logger } = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    for (const p of probes) {
      const where = `admin: app probe ${p.port} ${JSON.stringify(p.target)}`;
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new AdminError('admin.app_probes_invalid', `${where}: port must be 1-65535`);
      if (!p.target.startsWith('/')) throw new AdminError('admin.app_probes_invalid', `${where}: target must start with "/"`);
      if (!(p.timeoutMs > 0)) throw new AdminError('admin.app_probes_invalid', `${where}: timeout must be positive`);
      const path = appProbePath(p.port, p.target);
      if (this.#byPath.has(path)) throw new AdminError('admin.app_probes_invalid', `${where}: ${path} is configured twice`);
      this.#byPath.set(path, p);
    }
  }

  /** The served admin paths, for the start-up log. */
  paths(): string[] {
    return [...this.#byPath.keys()];
  }

  /** The probe served at `path` (already without its query), or undefined: only exact matches are served. */
  find(path: string): AppProbeTarget | undefined {
    return this.#byPath.get(path);
  }

  /**
   * Sends `GET <target>` to 127.0.0.1:<port> and answers with the app's
   * status (the kubelet counts 200-399 as success); 503 when the app cannot
   * be reached or does not answer within the probe's timeout. Redirects are
   * never followed and the app's body is discarded. Never rejects.
   */
  probe(p: AppProbeTarget): Promise<AppProbeAnswer> {
    const app = `127.0.0.1:${p.port}`;
    // Configured headers replace the defaults; a repeated name is sent on several lines.
    const configured = new Map<string, string[]>();
    for (const h of p.headers ?? []) {
      const name = h.name.toLowerCase();
      configured.set(name, [...(configured.get(name) ?? []), h.value]);
    }
    const headers: OutgoingHttpHeaders = { host: app, 'user-agent': USER_AGENT, accept: '*/*' };
    for (const [name, values] of configured) headers[name] = values.length === 1 ? values[0] : values;

    return new Promise((resolve) => {
      let settled = false;
      const settle = (answer: AppProbeAnswer, fields: Record<string, unknown>): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        // The status is all we need: the connection (agent: false) is closed with the body unread.
        req?.destroy();
        this.#log.debug({ dst: app, target: p.target, status: answer.status, ...fields }, 'app probe');
        resolve(answer);
      };
      const timer = this.#clock.setTimeout(
        () => settle({ status: 503, body: `app-probe: ${app} did not answer within ${p.timeoutMs} ms\n` }, { reason: 'timeout' }),
        p.timeoutMs,
      );
      let req: ClientRequest | undefined;
      try {
        req = nodeHttp.request({ host: '127.0.0.1', port: p.port, path: p.target, method: 'GET', headers, agent: false }, (res) => {
          res.on('error', () => {});
          res.resume();
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 999) return settle({ status: 503, body: `app-probe: ${app} answered with status ${status}\n` }, {});
          settle({ status, body: NO_BODY.has(status) ? '' : `app-probe: ${app} answered ${status}\n` }, {});
        });
      } catch (err) {
        // node:http refuses a bad path or header value before sending anything.
        settle({ status: 503, body: `app-probe: cannot send the probe to ${app}\n` }, { err: describeError(err) });
        return;
      }
      req.on('error', (err: NodeJS.ErrnoException) => {
        settle({ status: 503, body: `app-probe: ${app} cannot be reached (${err.code ?? 'error'})\n` }, { err: describeError(err) });
      });
      req.end();
    });
  }
}
