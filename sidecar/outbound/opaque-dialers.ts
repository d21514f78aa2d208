import type { IdMatcher } from '../spiffe/index.ts';
import { formatAddress, type Address } from '../core/index.ts';
import { MtlsDialer, type Dialer, type MtlsDialerOptions } from '../forward/index.ts';
import { OPAQUE_TCP_ALPN, type OriginalDestination } from '../transparent/index.ts';
import type { RouteTable } from './route-table.ts';

/** What a configured upstream contributes to an opaque destination: its identity pin and, if set, its address. */
export interface OpaquePin {
  readonly address: Address | null;
  readonly server: IdMatcher;
}

/** Options of {@link OpaqueDialers}: the mTLS dialer settings shared by every destination. */
export type OpaqueDialersOptions = Omit<MtlsDialerOptions, 'address' | 'server' | 'alpn' | 'lookup'> & {
  /** The outbound's routes; an entry keyed by the destination's address (and port) pins it. */
  readonly routes: RouteTable<OpaquePin>;
  /** The transparent expectation (our own trust domain by default). */
  readonly server: IdMatcher;
  /** Destinations kept; the least recently used beyond it are dropped (their open tunnels are unaffected). */
  readonly max: number;
};

/**
 * The mTLS dialers for opaque TCP into the mesh, one per original
 * destination: each offers ALPN `spiffe-sidecar-opaque/1` (the signal the
 * peer's transparent inbound reads, docs/decisions/014-outbound-classification.md)
 * and dials the original address and port, where the peer's iptables rules
 * send it to its sidecar. The server must present the transparent
 * expectation, unless an upstream whose `host` is that address (and port)
 * pins another identity; the pin's `address`, if any, is dialled instead.
 */
export class OpaqueDialers {
  readonly #o: OpaqueDialersOptions;
  readonly #dialers = new Map<string, Dialer>();

  constructor(o: OpaqueDialersOptions) {
    this.#o = o;
  }

  /** The dialer for `dst`, made on first use. */
  get(dst: OriginalDestination): Dialer {
    const name = formatAddress({ host: dst.address, port: dst.port });
    const known = this.#dialers.get(name);
    if (known !== undefined) {
      this.#dialers.delete(name);
      this.#dialers.set(name, known);
      return known;
    }
    const { routes, server, max, ...common } = this.#o;
    const pin = routes.lookup(name);
    const d = new MtlsDialer({
      ...common,
      address: pin?.address ?? { host: dst.address, port: dst.port },
      server: pin?.server ?? server,
      // MtlsDialerOptions names the HTTP protocols only; the value is offered as it is (tls' mtlsClientOptions takes any list).
      alpn: OPAQUE_TCP_ALPN,
    });
    this.#dialers.set(name, d);
    if (this.#dialers.size > max) this.#dialers.delete(this.#dialers.keys().next().value as string);
    return d;
  }
}
