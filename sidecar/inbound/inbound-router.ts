import { formatAddress, type Address, type Logger } from '../core/index.ts';
import { InboundEnforcement, type LocalAnswer } from '../enforcement/index.ts';
import { H1Pool, H2Upstream, TcpDialer, type ConnInfo, type Exchange, type UpstreamPool } from '../forward/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { Decision } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import { AppSelector } from './app-ports.ts';
import type { InboundOptions } from './inbound-options.ts';

/**
 * The inbound's routing: each request is decided by the enforcement stage
 * (token, policy on the normalised path, identity headers); a refused one
 * gets the stage's local answer, an allowed one goes to the app its
 * connection was bound to (transparent inbound, by original port) or else
 * the app its Host / :authority port picks.
 */
export class InboundRouter {
  /** The default app's pool. */
  readonly defaultUpstream: UpstreamPool;
  /** The configured `appPorts` pools by the port callers address. */
  readonly byPort: ReadonlyMap<number, UpstreamPool>;
  readonly #apps: AppSelector<UpstreamPool>;
  readonly #enforcement: InboundEnforcement;
  readonly #metrics: ProxyMetrics;
  readonly #logger: Logger;
  readonly #limits: InboundOptions['limits'];
  /** The app of each connection bound to one by its original port. */
  readonly #connApp = new WeakMap<ConnInfo, UpstreamPool>();

  constructor(o: InboundOptions, logger: Logger) {
    this.#metrics = o.metrics;
    this.#logger = logger;
    this.#limits = o.limits;
    this.defaultUpstream = this.upstreamFor(o.app, o.appProtocol);
    this.byPort = new Map((o.appPorts ?? []).map((a) => [a.port, this.upstreamFor(a.app, a.appProtocol)] as const));
    this.#apps = new AppSelector(this.defaultUpstream, this.byPort);
    this.#enforcement = new InboundEnforcement({
      policy: o.policy,
      headers: o.headers,
      authenticator: o.authenticator,
      forwardToken: o.forwardToken,
      webSocket: o.webSocket,
      contextHandles: o.contextHandles,
      connections: o.connectionSink,
      observer: o.enforcementObserver,
      logger,
    });
  }

  /** Has the stage decide one request and applies its verdict: the HttpFront's route step. */
  route(ex: Exchange): void {
    const v = this.#enforcement.decide(ex);
    // A promise only when the token needed I/O (a key or introspection fetch).
    if (v instanceof Promise) void v.then((answer) => this.#apply(ex, answer));
    else this.#apply(ex, v);
  }

  /** The connection check of opaque ports and streams (the stage's decideConnection). */
  decideConnection(peerId: SpiffeId, peerAddress: string | undefined, dst: string): Decision {
    return this.#enforcement.decideConnection(peerId, peerAddress, dst);
  }

  /** Sends every request of `conn` to `upstream`, whatever its Host says. */
  bindConnection(conn: ConnInfo, upstream: UpstreamPool): void {
    this.#connApp.set(conn, upstream);
  }

  /** A new pool for the app at `address`: one h2c session, or a keep-alive HTTP/1.1 pool. */
  upstreamFor(address: Address, protocol: 'http1' | 'h2c'): UpstreamPool {
    const l = this.#limits;
    const dialer = new TcpDialer(address, l.connectTimeoutMs);
    const dst = formatAddress(address);
    return protocol === 'h2c'
      ? new H2Upstream({ dialer, scheme: 'http', dst, maxHeaderBytes: l.maxHeaderBytes, logger: this.#logger })
      : new H1Pool({ dialer, dst, maxConnections: l.maxConnections, idleTimeoutMs: l.idleTimeoutMs, requestTimeoutMs: l.requestTimeoutMs, maxHeaderBytes: l.maxHeaderBytes });
  }

  /** The pools chosen by Host (the default app and `appPorts`). */
  upstreams(): readonly UpstreamPool[] {
    return this.#apps.all();
  }

  /** Sends the stage's verdict: the local answer, or the request to the app with the rewritten head. */
  #apply(ex: Exchange, answer: LocalAnswer | null): void {
    if (ex.clientGone) return;
    if (answer !== null) {
      this.#metrics.authzDecision('deny', ex.conn.peerId);
      ex.answer(answer);
      return;
    }
    this.#metrics.authzDecision('allow', ex.conn.peerId);
    ex.forwardTo(this.#connApp.get(ex.conn) ?? this.#apps.pick(ex.authority));
  }
}
