/**
 * A two-sidecar mesh on loopback: caller app → outbound sidecar → mTLS →
 * inbound sidecar → backend app, as the integration tests of both
 * directions use it.
 */
import type { InboundOptions } from '../../../sidecar/inbound/index.ts';
import type { OutboundOptions, OutboundUpstreamOptions } from '../../../sidecar/outbound/index.ts';
import { matchId } from '../../../sidecar/spiffe/index.ts';
import type { ProxyListener } from '../../../sidecar/forward/index.ts';
import { Cleanup, RecordingLogger, RecordingMetrics, TD, id, sourceFor, type IdentitySource, type Pki } from '../../support/proxy-fixtures.ts';
import { inboundFor } from '../../support/inbound-fixture.ts';
import { outboundFor } from '../../support/outbound-fixture.ts';

export const BACKEND_ID = `spiffe://${TD}/backend`;
export const FRONTEND_ID = `spiffe://${TD}/frontend`;

/** The running pair and what a test inspects. */
export interface Mesh {
  /** Port of the outbound listener (where the caller app sends plain HTTP / h2c). */
  readonly outboundPort: number;
  /** Port of the inbound listener (mTLS). */
  readonly inboundPort: number;
  readonly outbound: ProxyListener;
  readonly inbound: ProxyListener;
  /** The frontend's (caller's) identity source. */
  readonly frontend: IdentitySource;
  /** The backend's identity source. */
  readonly backend: IdentitySource;
  readonly outMetrics: RecordingMetrics;
  readonly inMetrics: RecordingMetrics;
  readonly outLogger: RecordingLogger;
  readonly inLogger: RecordingLogger;
}

/** Options of {@link startMesh}. */
export interface MeshOptions {
  readonly appPort: number;
  readonly appProtocol?: 'http1' | 'h2c';
  /** Protocol between the sidecars. */
  readonly protocol?: 'http1' | 'h2';
  /** Host the caller addresses; default `backend`. */
  readonly host?: string;
  readonly inbound?: Partial<InboundOptions>;
  readonly outbound?: Partial<OutboundOptions>;
  readonly upstream?: Partial<OutboundUpstreamOptions>;
  readonly frontend?: IdentitySource;
  readonly backend?: IdentitySource;
}

/** Starts inbound then outbound on ephemeral ports; both are closed by `cleanup`. */
export async function startMesh(pki: Pki, cleanup: Cleanup, o: MeshOptions): Promise<Mesh> {
  const backend = o.backend ?? (await sourceFor(pki.ca, BACKEND_ID, pki.bundles));
  const frontend = o.frontend ?? (await sourceFor(pki.ca, FRONTEND_ID, pki.bundles));
  const inMetrics = new RecordingMetrics();
  const outMetrics = new RecordingMetrics();
  const inLogger = new RecordingLogger();
  const outLogger = new RecordingLogger();
  const inbound = inboundFor(backend, o.appPort, { appProtocol: o.appProtocol ?? 'http1', metrics: inMetrics, logger: inLogger, accessLog: true, ...o.inbound });
  const { port: inboundPort } = await inbound.start();
  cleanup.add(() => inbound.close());
  const outbound = outboundFor(frontend, {
    upstreams: [
      {
        host: o.host ?? 'backend',
        address: { host: '127.0.0.1', port: inboundPort },
        server: matchId(id(BACKEND_ID)),
        protocol: o.protocol ?? 'http1',
        ...o.upstream,
      },
    ],
    metrics: outMetrics,
    logger: outLogger,
    accessLog: true,
    ...o.outbound,
  });
  const { port: outboundPort } = await outbound.start();
  cleanup.add(() => outbound.close());
  return { outboundPort, inboundPort, outbound, inbound, frontend, backend, outMetrics, inMetrics, outLogger, inLogger };
}
