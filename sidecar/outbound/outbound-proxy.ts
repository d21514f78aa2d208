import type { LookupFunction } from 'node:net';
import { silentLogger, systemClock } from '../core/index.ts';
import type { ProxyListener } from '../forward/index.ts';
import { SecureContextStore } from '../tls/index.ts';
import { guardedLookup } from './dial-guard.ts';
import { OutboundDestinations } from './outbound-destinations.ts';
import { OutboundListener } from './outbound-listener.ts';
import type { OutboundOptions } from './outbound-options.ts';
import { OutboundRouter } from './outbound-router.ts';

const DEFAULT_MAX_DESTINATIONS = 256;

/**
 * The outbound HTTP proxy: a plaintext listener for the local app
 * (HTTP/1.1 and h2c with prior knowledge on the same port) that routes by
 * Host / :authority to configured upstreams only, strips identity headers
 * the app sent, and forwards over SPIFFE mTLS with the current SVID,
 * verifying the server against the upstream's IdMatcher.
 *
 * Unknown host → 404 naming it; absolute-form targets → 400 and CONNECT →
 * 405 (never an open proxy); identity mismatch → 502 naming both IDs; peer
 * unreachable → 503; timeout → 504.
 *
 * With `transparent`, a host no upstream routes is dialled by its own name
 * and port instead (see routeOutbound for what is refused), through a
 * bounded set of per-destination pools. With `transparent.originalDestination`
 * as well, every redirected connection is classified first
 * (RedirectedConnections): HTTP as above, opaque TCP and the app's TLS
 * into the mesh over mTLS, and destinations outside the mesh through the
 * egress allow-list (docs/decisions/014-outbound-classification.md).
 */
export function createOutbound(o: OutboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'outbound' });
  const clock = o.clock ?? systemClock;
  // Without a credentials home, one store for every upstream: a rotation
  // rebuilds one context, and every pool sees the new generation at once.
  const store = o.credentials === undefined ? new SecureContextStore({ svidSource: o.svidSource, bundleSource: o.bundleSource }) : undefined;
  // Names dialled in transparent mode go through the guard; configured
  // addresses are the operator's choice and use the system resolver.
  const transparentLookup: LookupFunction | undefined = o.transparent ? (o.transparent.lookup ?? guardedLookup()) : undefined;
  const maxDialled = o.transparent?.maxDestinations ?? DEFAULT_MAX_DESTINATIONS;
  const destinations = new OutboundDestinations({
    svidSource: o.svidSource,
    bundleSource: o.bundleSource,
    credentials: o.credentials,
    store,
    limits: o.limits,
    metrics: o.metrics,
    clock,
    logger,
    transparentLookup,
    maxDialled,
  });
  const router = new OutboundRouter(o, { destinations, logger, transparentLookup, maxDialled });
  return new OutboundListener(o, { router, logger, clock, store, transparentLookup, maxDialled });
}
