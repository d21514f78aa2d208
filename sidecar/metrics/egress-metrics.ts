import type { Registry } from 'prom-client';
import { PlainCounter, type CountCell } from './plain-series.ts';

type Protocol = 'http' | 'tls' | 'tcp';
type Destination = 'mesh' | 'egress';
type Detected = 'port' | 'bytes' | 'timeout';
type Decision = 'allow' | 'deny';
type Reason = 'host' | 'cidr' | 'no_rule' | 'forbidden_address';

// Positions in the closed label sets, so a label combination is an array index.
const PROTOCOL: Readonly<Record<Protocol, number>> = { http: 0, tls: 1, tcp: 2 };
const DESTINATION: Readonly<Record<Destination, number>> = { mesh: 0, egress: 1 };
const DETECTED: Readonly<Record<Detected, number>> = { port: 0, bytes: 1, timeout: 2 };
const DECISION: Readonly<Record<Decision, number>> = { allow: 0, deny: 1 };
const REASON: Readonly<Record<Reason, number>> = { host: 0, cidr: 1, no_rule: 2, forbidden_address: 3 };

/**
 * Transparent-mode metrics of the outbound, on the sidecar's registry:
 * how redirected connections were classified, and every egress decision.
 * Every label comes from a closed set (the callers pass only the values
 * their types allow), so the series are bounded. A series appears on its
 * first use (not at 0 from the start), and is then a slot in an array
 * indexed by the label positions: an egress decision is made per request
 * for http, so recording one adds to a plain number (plain-series.ts).
 *
 * Implements sidecar/outbound's ClassificationObserver structurally, so
 * outbound does not depend on prom-client.
 */
export class EgressMetrics {
  readonly #classified: PlainCounter;
  readonly #egress: PlainCounter;
  readonly #classifiedCells: (CountCell | undefined)[] = [];
  readonly #egressCells: (CountCell | undefined)[] = [];

  constructor(registry: Registry) {
    this.#classified = new PlainCounter(registry, {
      name: 'sidecar_outbound_classified_total',
      help: 'Redirected outbound connections by protocol (http, tls, tcp), destination (mesh, egress) and how the protocol was found (port, bytes, timeout).',
      labelNames: ['protocol', 'destination', 'detected'],
    });
    this.#egress = new PlainCounter(registry, {
      name: 'sidecar_egress_decisions_total',
      help: 'Egress allow-list decisions for destinations outside the mesh (per connection for tls and tcp, per request for http), by decision, reason and protocol.',
      labelNames: ['decision', 'reason', 'protocol'],
    });
  }

  /** A redirected connection was classified. */
  classified(protocol: Protocol, destination: Destination, detected: Detected): void {
    const i = (PROTOCOL[protocol] * 2 + DESTINATION[destination]) * 3 + DETECTED[detected];
    (this.#classifiedCells[i] ??= this.#classified.add(protocol, destination, detected)).value += 1;
  }

  /** The egress allow-list decided. */
  egressDecided(decision: Decision, reason: Reason, protocol: Protocol): void {
    const i = (DECISION[decision] * 4 + REASON[reason]) * 3 + PROTOCOL[protocol];
    (this.#egressCells[i] ??= this.#egress.add(decision, reason, protocol)).value += 1;
  }
}
