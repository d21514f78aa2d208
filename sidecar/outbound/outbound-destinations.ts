import type { LookupFunction } from 'node:net';
import { formatAddress, type Address, type Clock, type Logger, type ProxyLimits } from '../core/index.ts';
import { H1Pool, H2Upstream, MtlsDialer } from '../forward/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { Credentials, SecureContextStore, X509BundleSetProvider } from '../tls/index.ts';

/** The connections to one upstream (configured, or a host dialled by name). */
export interface Destination {
  readonly name: string;
  readonly protocol: 'http1' | 'h2';
  readonly h1: H1Pool;
  readonly h2: H2Upstream;
}

/** What every destination's mTLS dialers and pools are made with. */
export interface OutboundDestinationsOptions {
  readonly svidSource: X509SvidSource;
  readonly bundleSource: X509BundleSetProvider;
  /** The credentials home, or else the one store every dialer shares. */
  readonly credentials: Credentials | undefined;
  readonly store: SecureContextStore | undefined;
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The resolver for names dialled in transparent mode (the dial guard); configured addresses use the system one. */
  readonly transparentLookup: LookupFunction | undefined;
  /** Transparent destinations kept; the least recently used beyond it are closed. */
  readonly maxDialled: number;
}

/**
 * The outbound's upstream connections: one destination (an HTTP/1.1 pool
 * and an HTTP/2 session over SPIFFE mTLS) per configured upstream, made
 * once, and a bounded, least-recently-used set of destinations dialled by
 * name in transparent mode.
 */
export class OutboundDestinations {
  readonly #o: OutboundDestinationsOptions;
  readonly #configured: Destination[] = [];
  /** Transparent destinations by host:port, least recently used first. */
  readonly #dialled = new Map<string, Destination>();

  constructor(o: OutboundDestinationsOptions) {
    this.#o = o;
  }

  /** Makes the destination of a configured upstream at `address`. */
  configured(name: string, address: Address, server: IdMatcher, protocol: 'http1' | 'h2'): Destination {
    const d = this.#make(name, address, server, protocol, undefined);
    this.#configured.push(d);
    return d;
  }

  /**
   * The destination for `host:port` dialled by name, made on first use. The
   * bound keeps an app that calls many names from holding a pool for each.
   */
  dialled(host: string, port: number, server: IdMatcher, protocol: 'http1' | 'h2'): Destination {
    const name = formatAddress({ host, port });
    const known = this.#dialled.get(name);
    if (known !== undefined) {
      this.#dialled.delete(name);
      this.#dialled.set(name, known);
      return known;
    }
    const d = this.#make(name, { host, port }, server, protocol, this.#o.transparentLookup);
    this.#dialled.set(name, d);
    if (this.#dialled.size > this.#o.maxDialled) {
      const [oldest, evicted] = this.#dialled.entries().next().value as [string, Destination];
      this.#dialled.delete(oldest);
      // Its in-flight requests finish; its idle connections close.
      Promise.all([evicted.h1.close(), evicted.h2.close()]).catch(noop);
    }
    return d;
  }

  /** Lets every destination's in-flight requests finish and closes its connections. */
  async close(): Promise<void> {
    await Promise.all(this.#all().flatMap((d) => [d.h1.close(), d.h2.close()]));
  }

  /** Destroys every destination's connections now. */
  destroy(): void {
    for (const d of this.#all()) {
      d.h1.destroy();
      d.h2.destroy();
    }
  }

  #all(): Destination[] {
    return [...this.#configured, ...this.#dialled.values()];
  }

  #make(name: string, address: Address, server: IdMatcher, protocol: 'http1' | 'h2', lookup: LookupFunction | undefined): Destination {
    const l = this.#o.limits;
    const h1 = new H1Pool({
      dialer: this.#dialer(address, server, 'http/1.1', lookup),
      dst: name,
      maxConnections: l.maxConnections,
      idleTimeoutMs: l.idleTimeoutMs,
      requestTimeoutMs: l.requestTimeoutMs,
      maxHeaderBytes: l.maxHeaderBytes,
    });
    const h2 = new H2Upstream({ dialer: this.#dialer(address, server, 'h2', lookup), scheme: 'https', dst: name, maxHeaderBytes: l.maxHeaderBytes, logger: this.#o.logger });
    return { name, protocol, h1, h2 };
  }

  #dialer(address: Address, server: IdMatcher, alpn: 'h2' | 'http/1.1', lookup: LookupFunction | undefined): MtlsDialer {
    const o = this.#o;
    return new MtlsDialer({
      address,
      server,
      svidSource: o.svidSource,
      bundleSource: o.bundleSource,
      credentials: o.credentials,
      store: o.store,
      alpn,
      connectTimeoutMs: o.limits.connectTimeoutMs,
      metrics: o.metrics,
      clock: o.clock,
      lookup,
    });
  }
}

function noop(): void {}
