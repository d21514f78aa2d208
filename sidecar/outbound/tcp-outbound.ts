import net from 'node:net';
import { formatAddress, silentLogger, systemClock, type Address, type Clock, type Logger, type ProxyLimits } from '../core/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { SecureContextStore, type Credentials, type X509BundleSetProvider } from '../tls/index.ts';
import { MtlsDialer, TunnelSet, joinTunnel, tunnelListener, type ProxyListener, type TunnelJoinContext } from '../forward/index.ts';

/** Options of {@link createTcpOutbound}. */
export interface TcpOutboundOptions {
  /** The local listener the app connects to (keep it on loopback). */
  readonly listen: Address;
  /** The peer sidecar's TCP tunnel listener. */
  readonly address: Address;
  /** Which server SPIFFE IDs are acceptable. */
  readonly server: IdMatcher;
  readonly svidSource: X509SvidSource;
  readonly bundleSource: X509BundleSetProvider;
  /** The sidecar's credentials home; without it a store is built from the two sources above. */
  readonly credentials?: Credentials | undefined;
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * A raw mTLS tunnel, outbound: each local connection is joined to a new
 * mTLS connection to `address` whose server ID `server` accepts. Nothing
 * the app sends leaves before the server is verified; on failure the local
 * connection is closed (raw TCP has no way to say why, so the reason, with
 * expected and presented IDs, goes to the log).
 */
export function createTcpOutbound(o: TcpOutboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'tcp-outbound', dst: formatAddress(o.address) });
  const clock = o.clock ?? systemClock;
  const dialer = new MtlsDialer({
    address: o.address,
    server: o.server,
    svidSource: o.svidSource,
    bundleSource: o.bundleSource,
    ...(o.credentials !== undefined ? { credentials: o.credentials } : { store: new SecureContextStore({ svidSource: o.svidSource, bundleSource: o.bundleSource }) }),
    connectTimeoutMs: o.limits.connectTimeoutMs,
    metrics: o.metrics,
    clock,
  });
  const tunnels = new TunnelSet(clock);
  // A `tcp` listener has one destination (its peer): the log lines need no fields to name it.
  const join: TunnelJoinContext = { tunnels, logger, fields: NO_FIELDS, failure: 'tunnel to peer failed' };

  const server = net.createServer({ pauseOnConnect: true, noDelay: true });
  server.maxConnections = o.limits.maxConnections;
  server.on('drop', () => logger.warn({ max_connections: o.limits.maxConnections }, 'connection refused: listener at maxConnections'));
  server.on('connection', (socket) => {
    socket.on('error', noop);
    joinTunnel(socket, dialer, join);
  });

  return tunnelListener(server, tunnels, o.listen, logger, 'tcp outbound');
}

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

function noop(): void {}
