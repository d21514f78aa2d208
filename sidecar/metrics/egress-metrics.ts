import { Counter, type Registry } from 'prom-client';

/**
 * Transparent-mode metrics of the outbound, on the sidecar's registry:
 * how redirected connections were classified, and every egress decision.
 * Every label comes from a closed set (the callers pass only the values
 * their types allow), so the series are bounded.
 *
 * Implements sidecar/outbound's ClassificationObserver structurally, so
 * outbound does not depend on prom-client.
 */
export class EgressMetrics {
  readonly #classified: Counter<'protocol' | 'destination' | 'detected'>;
  readonly #egress: Counter<'decision' | 'reason' | 'protocol'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#classified = new Counter({
      name: 'sidecar_outbound_classified_total',
      help: 'Redirected outbound connections by protocol (http, tls, tcp), destination (mesh, egress) and how the protocol was found (port, bytes, timeout).',
      labelNames: ['protocol', 'destination', 'detected'],
      registers,
    });
    this.#egress = new Counter({
      name: 'sidecar_egress_decisions_total',
      help: 'Egress allow-list decisions for destinations outside the mesh (per connection for tls and tcp, per request for http), by decision, reason and protocol.',
      labelNames: ['decision', 'reason', 'protocol'],
      registers,
    });
  }

  /** A redirected connection was classified. */
  classified(protocol: 'http' | 'tls' | 'tcp', destination: 'mesh' | 'egress', detected: 'port' | 'bytes' | 'timeout'): void {
    this.#classified.inc({ protocol, destination, detected });
  }

  /** The egress allow-list decided. */
  egressDecided(decision: 'allow' | 'deny', reason: 'host' | 'cidr' | 'no_rule' | 'forbidden_address', protocol: 'http' | 'tls' | 'tcp'): void {
    this.#egress.inc({ decision, reason, protocol });
  }
}
