import type { Detection, StreamProtocol, Zone } from './connection-plan.ts';
import type { EgressReason } from './egress-policy.ts';

/**
 * What the outbound reports about redirected connections, for metrics
 * (sidecar/metrics' EgressMetrics implements it). Every label comes from a
 * closed set.
 */
export interface ClassificationObserver {
  /** A redirected connection was classified. */
  classified(protocol: StreamProtocol, zone: Zone, detection: Detection): void;
  /** The egress allow-list decided on a connection (tls, tcp) or a request (http). */
  egressDecided(decision: 'allow' | 'deny', reason: EgressReason, protocol: StreamProtocol): void;
}

/** An observer that records nothing. */
export const noopClassificationObserver: ClassificationObserver = Object.freeze({
  classified() {},
  egressDecided() {},
});
