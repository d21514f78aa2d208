import { isIP, type LookupFunction } from 'node:net';
import { formatAddress, type Logger, type ProxyLimits } from '../core/index.ts';
import { H1Pool, H2Exchange, H2Upstream, type Exchange } from '../forward/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import { OUTBOUND_ANSWERS } from './outbound-answer.ts';
import type { OriginalDestination } from '../transparent/index.ts';
import type { ClassificationObserver } from './classification-observer.ts';
import { EgressDialer } from './egress-dialer.ts';
import type { EgressDecision, EgressPolicy } from './egress-policy.ts';
import { parseAuthority } from './route-table.ts';
import { DEFAULT_HTTP_PORT } from './transparent-route.ts';

/** Options of {@link EgressHttp}. */
export interface EgressHttpOptions {
  readonly policy: EgressPolicy;
  /** Resolves Host names (the transparent guard). */
  readonly lookup: LookupFunction;
  readonly limits: ProxyLimits;
  readonly observer: ClassificationObserver;
  readonly logger: Logger;
  /** Destinations kept with open pools; the least recently used beyond it are closed. */
  readonly maxDestinations: number;
  /** Whether WebSocket upgrades may pass (transparent.webSocket). */
  readonly webSocket: boolean;
}

interface Destination {
  readonly h1: H1Pool;
  readonly h2: H2Upstream;
}

/**
 * Plain HTTP from the app to a destination outside the mesh (the
 * connection's original address is outside meshCidrs): every request is
 * checked against the egress allow-list, by its Host name first (then
 * that name is dialled at the Host's port), else by the original address
 * (then that address and port are dialled). The sidecar is only a gate
 * here: nothing is added to or removed from the request beyond the
 * hop-by-hop rules, since no peer sidecar receives it.
 *
 * Every decision is logged at info with the method and the path without
 * its query (a query may carry secrets), and counted.
 */
export class EgressHttp {
  readonly #o: EgressHttpOptions;
  readonly #pools = new Map<string, Destination>();

  constructor(o: EgressHttpOptions) {
    this.#o = o;
  }

  /** Answers or forwards one request of a connection headed for `dst`. */
  route(ex: Exchange, dst: OriginalDestination): void {
    const o = this.#o;
    const a = parseAuthority(ex.authority);
    let host = dst.address;
    let port = dst.port;
    let d: EgressDecision | undefined;
    if (a !== undefined && isIP(a.host) === 0) {
      const byName = o.policy.allowsName(a.host, a.port ?? DEFAULT_HTTP_PORT);
      if (byName.allow) {
        d = byName;
        host = a.host;
        port = a.port ?? DEFAULT_HTTP_PORT;
      }
    }
    d ??= o.policy.allowsAddress(dst.address, dst.port);
    const shown = a === undefined ? formatAddress({ host: dst.address, port: dst.port }) : formatAddress({ host: a.host, port: a.port ?? DEFAULT_HTTP_PORT });
    this.#decided(ex, d, d.allow ? formatAddress({ host, port }) : shown);
    if (!d.allow) {
      ex.answer(
        OUTBOUND_ANSWERS.egress_denied,
        `egress to ${quoteUntrusted(shown, 100)} (address ${formatAddress({ host: dst.address, port: dst.port })}) is not allowed: no outbound.egress.allow entry matches its host or address and port`,
      );
      return;
    }
    if (ex.upgrade !== '' && !o.webSocket) {
      ex.answer(OUTBOUND_ANSWERS.upgrade_not_allowed, `WebSocket to ${shown} is not permitted: outbound.transparent.webSocket is off`);
      return;
    }
    const pool = this.#pool(host, port);
    ex.forwardTo(ex.upgrade === '' && ex instanceof H2Exchange ? pool.h2 : pool.h1);
  }

  /** Closes every pool once its requests finished. */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].flatMap((d) => [d.h1.close(), d.h2.close()]));
  }

  /** Destroys every pool now. */
  destroy(): void {
    for (const d of this.#pools.values()) {
      d.h1.destroy();
      d.h2.destroy();
    }
  }

  #decided(ex: Exchange, d: EgressDecision, dst: string): void {
    const q = ex.path.indexOf('?');
    this.#o.observer.egressDecided(d.allow ? 'allow' : 'deny', d.reason, 'http');
    this.#o.logger.info(
      { decision: d.allow ? 'allow' : 'deny', reason: d.reason, protocol: 'http', dst, method: ex.method, path: q < 0 ? ex.path : ex.path.slice(0, q) },
      d.allow ? 'egress allowed' : 'egress denied',
    );
  }

  #pool(host: string, port: number): Destination {
    const name = formatAddress({ host, port });
    const known = this.#pools.get(name);
    if (known !== undefined) {
      this.#pools.delete(name);
      this.#pools.set(name, known);
      return known;
    }
    const o = this.#o;
    const l = o.limits;
    const dialer = new EgressDialer({ host, port }, l.connectTimeoutMs, o.lookup);
    const d: Destination = {
      h1: new H1Pool({
        dialer,
        dst: name,
        maxConnections: l.maxConnections,
        idleTimeoutMs: l.idleTimeoutMs,
        requestTimeoutMs: l.requestTimeoutMs,
        maxHeaderBytes: l.maxHeaderBytes,
      }),
      h2: new H2Upstream({ dialer, scheme: 'http', dst: name, maxHeaderBytes: l.maxHeaderBytes, logger: o.logger }),
    };
    this.#pools.set(name, d);
    if (this.#pools.size > o.maxDestinations) {
      const [oldest, evicted] = this.#pools.entries().next().value as [string, Destination];
      this.#pools.delete(oldest);
      Promise.all([evicted.h1.close(), evicted.h2.close()]).catch(() => {});
    }
    return d;
  }
}
