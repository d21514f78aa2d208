import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeError, formatAddress, type Address, type Logger } from '../core/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { Decision } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import { TcpDialer, type TunnelSet, type UpstreamPool } from '../forward/index.ts';
import type { TunnelEnd } from './tcp-inbound.ts';

/** What {@link OriginalPortApps.route} decided for one accepted connection. */
export type PortRoute =
  /** Not redirected (or unknown): choose by Host / :authority as without transparent mode. */
  | { readonly kind: 'host' }
  /** Every request of the connection goes to this app. */
  | { readonly kind: 'http'; readonly port: number; readonly upstream: UpstreamPool }
  /** Joined to the app port as raw TCP after the connection check. */
  | { readonly kind: 'opaque'; readonly port: number; readonly end: TunnelEnd }
  /** Closed: the port is the sidecar's own, or too many distinct ports were seen. */
  | { readonly kind: 'refuse'; readonly port: number; readonly reason: string };

/** Options of {@link OriginalPortApps}. */
export interface OriginalPortAppsOptions {
  /** The port the caller originally dialled, or undefined when the connection was not redirected. */
  readonly originalPort: (socket: Socket) => number | undefined;
  /** The default app; its port keeps its configured protocol. */
  readonly app: Address;
  readonly appProtocol: 'http1' | 'h2c';
  /** The configured `appPorts` upstreams by port (the same instances the Host-based selector uses). */
  readonly appPorts: ReadonlyMap<number, UpstreamPool>;
  /** The default app's upstream. */
  readonly defaultUpstream: UpstreamPool;
  readonly opaquePorts: readonly number[];
  /** The sidecar's own listener ports: never dialled on a caller's behalf. */
  readonly reservedPorts: readonly number[];
  readonly upstreamFor: (address: Address, protocol: 'http1' | 'h2c') => UpstreamPool;
  /** The connection check of opaque ports (the enforcement stage's decideConnection). */
  readonly authorizeCaller: (peerId: SpiffeId, peerAddress: string | undefined) => Decision;
  readonly connectTimeoutMs: number;
  readonly tunnels: TunnelSet;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** Distinct ports served before further ones are refused (default 256). */
  readonly maxPorts?: number;
}

const HOST: PortRoute = Object.freeze({ kind: 'host' });

/**
 * Chooses the local app of a redirected inbound connection by the port the
 * caller originally dialled (transparent inbound): a pod serving HTTP,
 * gRPC, metrics and a database on several ports needs no per-port
 * configuration. The app is always on the default app's host; the port
 * comes from the kernel's NAT entry, not from anything the caller sends.
 *
 * - a configured `appPorts` entry or the default app's port keep their
 *   configured address and protocol;
 * - `opaquePorts` become raw TCP tunnels after the policy's connection check;
 * - any other port is served over HTTP, as h2c when the caller negotiated h2
 *   (gRPC) or the app protocol is h2c, else HTTP/1.1;
 * - the sidecar's own ports are refused: a redirected connection to, say,
 *   the outbound listener would otherwise send requests with this
 *   workload's identity on the caller's behalf.
 *
 * Routes are made once per port (and protocol) and reused, so a connection
 * allocates nothing here after the first on its port.
 */
export class OriginalPortApps {
  readonly #o: OriginalPortAppsOptions;
  readonly #routes = new Map<string, PortRoute>();
  readonly #made: UpstreamPool[] = [];
  readonly #opaque: ReadonlySet<number>;
  readonly #reserved: ReadonlySet<number>;
  readonly #maxPorts: number;

  constructor(o: OriginalPortAppsOptions) {
    this.#o = o;
    this.#opaque = new Set(o.opaquePorts);
    this.#reserved = new Set(o.reservedPorts);
    this.#maxPorts = o.maxPorts ?? 256;
  }

  /** The route of an accepted (verified) connection. */
  route(socket: TLSSocket): PortRoute {
    let port: number | undefined;
    try {
      port = this.#o.originalPort(socket);
    } catch (err) {
      // Fall back to the Host-based choice among configured apps: never a wider set of ports.
      this.#o.logger.warn({ err: describeError(err) }, 'original destination unavailable; choosing the app by Host');
      return HOST;
    }
    if (port === undefined) return HOST;
    const h2 = socket.alpnProtocol === 'h2';
    const key = h2 ? `${port}/h2` : String(port);
    const known = this.#routes.get(key);
    if (known !== undefined) return known;
    const made = this.#make(port, h2);
    if (made.kind !== 'refuse' || this.#reserved.has(port)) this.#routes.set(key, made);
    return made;
  }

  /** The upstreams made for unconfigured ports (for drain and close). */
  upstreams(): readonly UpstreamPool[] {
    return this.#made;
  }

  #make(port: number, h2: boolean): PortRoute {
    const o = this.#o;
    if (this.#reserved.has(port)) return { kind: 'refuse', port, reason: 'sidecar_port' };
    const configured = port === o.app.port ? o.defaultUpstream : o.appPorts.get(port);
    if (configured !== undefined) return { kind: 'http', port, upstream: configured };
    if (this.#routes.size >= this.#maxPorts) return { kind: 'refuse', port, reason: 'too_many_ports' };
    const address: Address = { host: o.app.host, port };
    if (this.#opaque.has(port)) {
      const logger = o.logger.child({ dst: formatAddress(address), opaque: true });
      const end: TunnelEnd = { authorizeCaller: o.authorizeCaller, dialer: new TcpDialer(address, o.connectTimeoutMs), tunnels: o.tunnels, metrics: o.metrics, logger };
      return { kind: 'opaque', port, end };
    }
    const upstream = o.upstreamFor(address, h2 || o.appProtocol === 'h2c' ? 'h2c' : 'http1');
    this.#made.push(upstream);
    return { kind: 'http', port, upstream };
  }
}
