/**
 * The inbound proxy the integration tests put in front of an app: an
 * HTTP/1.1 app on 127.0.0.1, the fixtures' identity headers, limits and
 * recording metrics, an allow-all policy, and the source's own SPIFFE ID as
 * the local ID. A test overrides only what it exercises.
 */
import { createInbound, type InboundOptions } from '../../sidecar/inbound/index.ts';
import { allowAll } from '../../sidecar/policy/index.ts';
import { LIMITS, RecordingMetrics, headers, type Cleanup, type IdentitySource } from './proxy-fixtures.ts';

/** An inbound listener on 127.0.0.1 (ephemeral port) presenting `source`'s SVID, in front of the app on `appPort`. */
export function inboundFor(source: IdentitySource, appPort: number, over: Partial<InboundOptions> = {}): ReturnType<typeof createInbound> {
  return createInbound({
    listen: { host: '127.0.0.1', port: 0 },
    app: { host: '127.0.0.1', port: appPort },
    appProtocol: 'http1',
    svidSource: source,
    bundleSource: source,
    localId: () => source.getX509Svid().id,
    policy: () => allowAll,
    headers,
    metrics: new RecordingMetrics(),
    limits: LIMITS,
    ...over,
  });
}

/** Starts {@link inboundFor}, closes it on `cleanup`, and returns its port. */
export async function startInbound(cleanup: Cleanup, source: IdentitySource, appPort: number, over: Partial<InboundOptions> = {}): Promise<number> {
  const proxy = inboundFor(source, appPort, over);
  const { port } = await proxy.start();
  cleanup.add(() => proxy.close());
  return port;
}
