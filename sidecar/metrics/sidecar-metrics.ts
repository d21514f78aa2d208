import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BODY_TIMEOUT_REASONS, OVERFLOW_LIMITS, type BodyTimeoutReason, type Direction, type OverflowLimit, type ProxyMetrics } from './proxy-metrics.ts';
import { BoundedLabel, METHOD_LABELS, OVERFLOW_LABEL, codeLabel, codeNumber, methodIndex } from './label-values.ts';

/** Histogram buckets for proxied request latency: from a loopback hop (0.5 ms) to slow backends (10 s). */
export const REQUEST_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Distinct handshake-error reasons kept before the rest are reported as `other`. */
const MAX_HANDSHAKE_REASONS = 32;

/** Options for {@link SidecarMetrics}. */
export interface SidecarMetricsOptions {
  /** Distinct peer SPIFFE IDs labelled individually; later ones are `overflow`. Default 200. */
  readonly maxPeerIds?: number;
  /** Also register Node's process metrics (CPU, memory, event loop, GC). Default true. */
  readonly processMetrics?: boolean;
}

interface RequestSeries {
  readonly count: { inc(): void };
  readonly duration: { observe(v: number): void };
}

/** Everything recorded for one peer label value, so one Map lookup by peer ID finds it. */
interface PeerSeries {
  readonly label: string;
  /** Keyed by directionIndex * 10_000 + methodIndex * 1_000 + code: a small integer, cheap to hash. */
  readonly requests: Map<number, RequestSeries>;
  allow: { inc(): void } | undefined;
  deny: { inc(): void } | undefined;
}

const DIRECTION_INDEX: Readonly<Record<Direction, number>> = { inbound: 0, outbound: 1 };
const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound'];

type Inc = { inc(): void };

/**
 * The label-bound children of `counter` for every direction and every value
 * of `values`: the label sets are closed, so each series exists (at 0) from
 * the start and an increment is two property reads.
 */
function byDirectionAnd<V extends string>(counter: Counter<'direction' | string>, values: readonly V[]): Readonly<Record<Direction, Readonly<Record<V, Inc>>>> {
  const out = {} as Record<Direction, Record<V, Inc>>;
  for (const d of DIRECTIONS) {
    const row = {} as Record<V, Inc>;
    for (const v of values) {
      const child = counter.labels(d, v);
      child.inc(0);
      row[v] = child;
    }
    out[d] = row;
  }
  return out;
}

/**
 * The sidecar's metrics, on a Registry of its own (never prom-client's
 * global one) so several sidecars can run in one process, as tests do.
 *
 * Per-request cost: label-bound prom-client children are cached per peer
 * under an integer key, so a repeated label combination does two Map
 * lookups (peer ID string, then integer) and no label-object or string
 * building before prom-client's own increment.
 */
export class SidecarMetrics implements ProxyMetrics {
  /** The registry holding every metric of this instance. */
  readonly registry: Registry;
  readonly #requests: Counter<'direction' | 'method' | 'code' | 'peer_spiffe_id'>;
  readonly #duration: Histogram<'direction' | 'method' | 'peer_spiffe_id'>;
  readonly #handshakeErrors: Counter<'direction' | 'reason'>;
  readonly #authz: Counter<'decision' | 'peer_spiffe_id'>;
  readonly #svidExpiry: Gauge;
  readonly #svidRotations: Counter;
  readonly #workloadApi: Gauge;
  readonly #policyReloadErrors: Counter;
  readonly #connections: Readonly<Record<Direction, { inc(): void; dec(): void }>>;
  readonly #overflow: Readonly<Record<Direction, Readonly<Record<OverflowLimit, Inc>>>>;
  readonly #bodyTimeouts: Readonly<Record<Direction, Readonly<Record<BodyTimeoutReason, Inc>>>>;
  readonly #resetBeforeUpstream: Readonly<Record<Direction, Inc>>;
  readonly #maxPeers: number;
  /** Admitted peers by ID (at most maxPeerIds of them, plus '' for "no peer"). */
  readonly #peers = new Map<string, PeerSeries>();
  readonly #overflowPeer: PeerSeries = newPeerSeries(OVERFLOW_LABEL);
  readonly #reasons = new BoundedLabel(MAX_HANDSHAKE_REASONS, 'other');
  readonly #handshakeSeries = new Map<string, { inc(): void }>();

  constructor(options: SidecarMetricsOptions = {}) {
    const register = new Registry();
    this.registry = register;
    const registers = [register];
    this.#maxPeers = options.maxPeerIds ?? 200;
    if (options.processMetrics !== false) collectDefaultMetrics({ register });

    this.#requests = new Counter({
      name: 'sidecar_requests_total',
      help:
        'HTTP requests proxied, by direction (inbound = callers into this workload, outbound = this workload calling others), ' +
        'method (OTHER for non-standard ones), response status code ("0" when no response was sent) and the peer\'s SPIFFE ID ' +
        '("overflow" once metrics.maxPeerIds distinct IDs have been seen).',
      labelNames: ['direction', 'method', 'code', 'peer_spiffe_id'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'sidecar_request_duration_seconds',
      help: 'Time to proxy one HTTP request, from its arrival at the sidecar until the response was complete, in seconds.',
      labelNames: ['direction', 'method', 'peer_spiffe_id'],
      buckets: [...REQUEST_DURATION_BUCKETS],
      registers,
    });
    this.#handshakeErrors = new Counter({
      name: 'sidecar_tls_handshake_errors_total',
      help: 'mTLS handshakes that failed, by direction and reason (e.g. untrusted or expired peer certificate, peer ID not accepted).',
      labelNames: ['direction', 'reason'],
      registers,
    });
    this.#authz = new Counter({
      name: 'sidecar_authz_decisions_total',
      help: 'Inbound authorization decisions: decision="deny" counts callers the policy refused, by caller SPIFFE ID.',
      labelNames: ['decision', 'peer_spiffe_id'],
      registers,
    });
    const connections = new Gauge({
      name: 'sidecar_connections_active',
      help: 'Connections currently open through the sidecar, by direction.',
      labelNames: ['direction'],
      registers,
    });
    this.#svidExpiry = new Gauge({
      name: 'sidecar_svid_expiry_timestamp_seconds',
      help: 'Unix time when the current X509-SVID expires (0 before the first one); alert when this minus time() gets small, as rotation has stalled.',
      registers,
    });
    this.#svidRotations = new Counter({
      name: 'sidecar_svid_rotations_total',
      help: 'X509-SVID rotations: new SVIDs received from the Workload API after the first one.',
      registers,
    });
    this.#workloadApi = new Gauge({
      name: 'sidecar_workload_api_connected',
      help: '1 while the Workload API stream is connected, 0 while the sidecar is (re)connecting.',
      registers,
    });
    this.#policyReloadErrors = new Counter({
      name: 'sidecar_policy_reload_errors_total',
      help: 'Policy file reloads that failed; the previous policy stays in force until a reload succeeds.',
      registers,
    });
    this.#overflow = byDirectionAnd(
      new Counter({
        name: 'sidecar_upstream_overflow_total',
        help:
          'Requests answered 503 (with retry-after) instead of being queued, because an upstream concurrency cap was full: ' +
          'limit="connection" (limits.maxConcurrentRequestsPerConnection), "caller" (limits.maxConcurrentRequestsPerCaller) ' +
          'or "pool" (limits.maxConnections upstream connections, all busy).',
        labelNames: ['direction', 'limit'],
        registers,
      }),
      OVERFLOW_LIMITS,
    );
    this.#bodyTimeouts = byDirectionAnd(
      new Counter({
        name: 'sidecar_request_body_timeouts_total',
        help:
          'Requests cut off because their body stalled (reason="idle": no byte for limits.requestBodyIdleTimeout) ' +
          'or fell behind limits.minUploadBytesPerSecond (reason="min_rate"); the upstream request was reset.',
        labelNames: ['direction', 'reason'],
        registers,
      }),
      BODY_TIMEOUT_REASONS,
    );
    const resets = new Counter({
      name: 'sidecar_streams_reset_before_upstream_total',
      help: 'HTTP/2 streams the client reset before their request was sent upstream; none of them reached the upstream (rapid reset shows here).',
      labelNames: ['direction'],
      registers,
    });
    resets.inc({ direction: 'inbound' }, 0);
    resets.inc({ direction: 'outbound' }, 0);
    this.#resetBeforeUpstream = { inbound: resets.labels('inbound'), outbound: resets.labels('outbound') };
    // Zero series for both directions so dashboards show 0, not "no data".
    connections.set({ direction: 'inbound' }, 0);
    connections.set({ direction: 'outbound' }, 0);
    this.#connections = { inbound: connections.labels('inbound'), outbound: connections.labels('outbound') };
  }

  /** The Content-Type of {@link render}'s output (Prometheus text format). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Renders every metric in the Prometheus text exposition format. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The series holder for `peerId`. First come, first kept: once admitted a
   * peer keeps its own series for the life of the process, so dashboards do
   * not flap; '' (no authenticated peer) is always admitted.
   */
  #peer(peerId: string): PeerSeries {
    let p = this.#peers.get(peerId);
    if (p !== undefined) return p;
    // The '' entry does not count towards the cap.
    const admitted = this.#peers.size - (this.#peers.has('') ? 1 : 0);
    if (peerId !== '' && admitted >= this.#maxPeers) return this.#overflowPeer;
    p = newPeerSeries(peerId);
    this.#peers.set(peerId, p);
    return p;
  }

  requestDone(direction: Direction, method: string, code: number, peerId: string, durationSeconds: number): void {
    const peer = this.#peer(peerId);
    const d = DIRECTION_INDEX[direction];
    const mi = methodIndex(method);
    const c = codeNumber(code);
    const key = d * 10_000 + mi * 1_000 + c;
    let series = peer.requests.get(key);
    if (series === undefined) {
      const m = METHOD_LABELS[mi]!;
      series = {
        count: this.#requests.labels(direction, m, codeLabel(c), peer.label),
        duration: this.#duration.labels(direction, m, peer.label),
      };
      peer.requests.set(key, series);
    }
    series.count.inc();
    // prom-client throws on NaN/Infinity; a clock glitch must not fail a request.
    series.duration.observe(durationSeconds > 0 && durationSeconds < Infinity ? durationSeconds : 0);
  }

  handshakeError(direction: Direction, reason: string): void {
    const r = this.#reasons.label(reason);
    const key = direction + '\n' + r;
    let series = this.#handshakeSeries.get(key);
    if (series === undefined) {
      series = this.#handshakeErrors.labels(direction, r);
      this.#handshakeSeries.set(key, series);
    }
    series.inc();
  }

  authzDecision(decision: 'allow' | 'deny', peerId: string): void {
    const peer = this.#peer(peerId);
    if (decision === 'allow') (peer.allow ??= this.#authz.labels('allow', peer.label)).inc();
    else (peer.deny ??= this.#authz.labels('deny', peer.label)).inc();
  }

  connectionOpened(direction: Direction): void {
    this.#connections[direction].inc();
  }

  connectionClosed(direction: Direction): void {
    this.#connections[direction].dec();
  }

  upstreamOverflow(direction: Direction, limit: OverflowLimit): void {
    this.#overflow[direction][limit].inc();
  }

  requestBodyTimeout(direction: Direction, reason: BodyTimeoutReason): void {
    this.#bodyTimeouts[direction][reason].inc();
  }

  streamResetBeforeUpstream(direction: Direction): void {
    this.#resetBeforeUpstream[direction].inc();
  }

  /** Records the current SVID's expiry; `rotated` is false for the first SVID and true for each replacement. */
  svidUpdated(notAfter: Date, rotated: boolean): void {
    this.#svidExpiry.set(notAfter.getTime() / 1000);
    if (rotated) this.#svidRotations.inc();
  }

  /** Records whether the Workload API stream is up. */
  workloadApiConnected(up: boolean): void {
    this.#workloadApi.set(up ? 1 : 0);
  }

  /** Counts a failed policy reload. */
  policyReloadError(): void {
    this.#policyReloadErrors.inc();
  }
}

function newPeerSeries(label: string): PeerSeries {
  return { label, requests: new Map(), allow: undefined, deny: undefined };
}
