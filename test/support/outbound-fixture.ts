/**
 * The outbound proxy the integration tests put in front of their client:
 * a listener on 127.0.0.1 (ephemeral port) with no upstreams, presenting
 * `source`'s SVID and trusting its bundles, with the fixtures' identity
 * headers, limits and recording metrics. A test overrides only what it
 * exercises (upstreams, transparent mode, metrics it reads back).
 */
import { createOutbound, type OutboundOptions } from '../../sidecar/outbound/index.ts';
import { LIMITS, RecordingMetrics, headers, type Cleanup, type IdentitySource } from './proxy-fixtures.ts';

/** An outbound listener for `source`; `over` replaces any of the defaults. */
export function outboundFor(source: IdentitySource, over: Partial<OutboundOptions> = {}): ReturnType<typeof createOutbound> {
  return createOutbound({
    listen: { host: '127.0.0.1', port: 0 },
    upstreams: [],
    svidSource: source,
    bundleSource: source,
    headers,
    metrics: new RecordingMetrics(),
    limits: LIMITS,
    ...over,
  });
}

/** Starts {@link outboundFor}, closes it on `cleanup`, and returns its port. */
export async function startOutbound(cleanup: Cleanup, source: IdentitySource, over: Partial<OutboundOptions> = {}): Promise<number> {
  const proxy = outboundFor(source, over);
  const { port } = await proxy.start();
  cleanup.add(() => proxy.close());
  return port;
}
