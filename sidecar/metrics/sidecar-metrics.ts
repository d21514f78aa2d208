import type { Counter as PromCounter, Gauge as PromGauge, Registry as PromRegistry } from 'prom-client';
import Registry from 'prom-client/lib/registry.js';
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import { BODY_TIMEOUT_REASONS, OVERFLOW_LIMITS, type BodyTimeoutReason, type Direction, type OverflowLimit, type ProxyMetrics } from './proxy-metrics.ts';
import { BoundedLabel, METHOD_LABELS, OVERFLOW_LABEL, codeLabel, codeNumber, methodIndex } from './label-values.ts';
import { PlainCounter, PlainHistogram, type CountCell, type HistogramCell } from './plain-series.ts';

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

/** The two series one request updates. */
interface RequestSeries {
  readonly count: CountCell;
  readonly duration: HistogramCell;
}

/** Everything recorded for one peer label value, so one Map lookup by peer ID finds it. */
interface PeerSeries {
  readonly label: string;
  /** Keyed by directionIndex * 10_000 + methodIndex * 1_000 + code: a small integer, cheap to hash. */
  readonly requests: Map<number, RequestSeries>;
  /** Duration series by directionIndex * METHOD_LABELS.length + methodIndex, shared by every code. */
  readonly durations: (HistogramCell | undefined)[];
  allow: CountCell | undefined;
  deny: CountCell | undefined;
}

const DIRECTION_INDEX: Readonly<Record<Direction, number>> = { inbound: 0, outbound: 1 };
const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound'];
/** Label objects of sidecar_connections_active, made once: Gauge#set keeps the object it is given. */
const DIRECTION_LABELS: readonly Readonly<Record<'direction', Direction>>[] = DIRECTIONS.map((direction) => Object.freeze({ direction }));

/**
 * A series for every direction and every value of `values`: the label sets
 * are closed, so each series exists (at 0) from the start and an increment
 * is two property reads and an add.
 */
function byDirectionAnd<V extends string>(counter: PlainCounter, values: readonly V[]): Readonly<Record<Direction, Readonly<Record<V, CountCell>>>> {
  const out = {} as Record<Direction, Record<V, CountCell>>;
  for (const d of DIRECTIONS) {
    const row = {} as Record<V, CountCell>;
    for (const v of values) row[v] = counter.add(d, v);
    out[d] = row;
  }
  return out;
}

/**
 * The sidecar's metrics, on a Registry of its own (never prom-client's
 * global one) so several sidecars can run in one process, as tests do.
 *
 * Per-request cost: what the proxies call (the {@link ProxyMetrics}
 * methods) adds to plain numbers in series objects cached per peer under
 * an integer key, so a repeated label combination does two Map lookups
 * (peer ID string, then integer) and a few additions, with nothing
 * allocated. prom-client gets the numbers when the registry is scraped
 * (plain-series.ts); the rarely changing gauges and counters below stay
 * prom-client's own.
 */
export class SidecarMetrics implements ProxyMetrics {
  /** The registry holding every metric of this instance. */
  readonly registry: PromRegistry;
  readonly #requests: PlainCounter;
  readonly #duration: PlainHistogram;
  readonly #handshakeErrors: PlainCounter;
  readonly #authz: PlainCounter;
  readonly #svidExpiry: PromGauge;
  readonly #svidRotations: PromCounter;
  readonly #workloadApi: PromGauge;
  readonly #policyReloadErrors: PromCounter;
  /** Open connections by direction index. */
  readonly #active = [0, 0];
  readonly #overflow: Readonly<Record<Direction, Readonly<Record<OverflowLimit, CountCell>>>>;
  readonly #bodyTimeouts: Readonly<Record<Direction, Readonly<Record<BodyTimeoutReason, CountCell>>>>;
  readonly #resetBeforeUpstream: Readonly<Record<Direction, CountCell>>;
  readonly #maxPeers: number;
  /** Admitted peers by ID (at most maxPeerIds of them, plus '' for "no peer"). */
  readonly #peers = new Map<string, PeerSeries>();
  readonly #overflowPeer: PeerSeries = newPeerSeries(OVERFLOW_LABEL);
  readonly #reasons = new BoundedLabel(MAX_HANDSHAKE_REASONS, 'other');

  constructor(options: SidecarMetricsOptions = {}) {
    const register = new Registry();
    this.registry = register;
    const registers = [register];
    this.#maxPeers = options.maxPeerIds ?? 200;
    if (options.processMetrics !== false) collectDefaultMetrics({ register });

    this.#requests = new PlainCounter(register, {
      name: 'sidecar_requests_total',
      help:
        'HTTP requests proxied, by direction (inbound = callers into this workload, outbound = this workload calling others), ' +
        'method (OTHER for non-standard ones), response status code ("0" when no response was sent) and the peer\'s SPIFFE ID ' +
        '("overflow" once metrics.maxPeerIds distinct IDs have been seen).',
      labelNames: ['direction', 'method', 'code', 'peer_spiffe_id'],
    });
    this.#duration = new PlainHistogram(register, {
      name: 'sidecar_request_duration_seconds',
      help: 'Time to proxy one HTTP request, from its arrival at the sidecar until the response was complete, in seconds.',
      labelNames: ['direction', 'method', 'peer_spiffe_id'],
      buckets: REQUEST_DURATION_BUCKETS,
    });
    this.#handshakeErrors = new PlainCounter(register, {
      name: 'sidecar_tls_handshake_errors_total',
      help: 'mTLS handshakes that failed, by direction and reason (e.g. untrusted or expired peer certificate, peer ID not accepted).',
      labelNames: ['direction', 'reason'],
    });
    this.#authz = new PlainCounter(register, {
      name: 'sidecar_authz_decisions_total',
      help: 'Inbound authorization decisions: decision="deny" counts callers the policy refused, by caller SPIFFE ID.',
      labelNames: ['decision', 'peer_spiffe_id'],
    });
    const active = this.#active;
    new Gauge({
      name: 'sidecar_connections_active',
      help: 'Connections currently open through the sidecar, by direction.',
      labelNames: ['direction'],
      registers,
      // Both directions at every scrape, so dashboards show 0, not "no data".
      collect() {
        for (let d = 0; d < DIRECTION_LABELS.length; d++) this.set(DIRECTION_LABELS[d]!, active[d]!);
      },
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
      new PlainCounter(register, {
        name: 'sidecar_upstream_overflow_total',
        help:
          'Requests answered 503 (with retry-after) instead of being queued, because an upstream concurrency cap was full: ' +
          'limit="connection" (limits.maxConcurrentRequestsPerConnection), "caller" (limits.maxConcurrentRequestsPerCaller) ' +
          'or "pool" (limits.maxConnections upstream connections, all busy).',
        labelNames: ['direction', 'limit'],
      }),
      OVERFLOW_LIMITS,
    );
    this.#bodyTimeouts = byDirectionAnd(
      new PlainCounter(register, {
        name: 'sidecar_request_body_timeouts_total',
        help:
          'Requests cut off because their body stalled (reason="idle": no byte for limits.requestBodyIdleTimeout) ' +
          'or fell behind limits.minUploadBytesPerSecond (reason="min_rate"); the upstream request was reset.',
        labelNames: ['direction', 'reason'],
      }),
      BODY_TIMEOUT_REASONS,
    );
    const resets = new PlainCounter(register, {
      name: 'sidecar_streams_reset_before_upstream_total',
      help: 'HTTP/2 streams the client reset before their request was sent upstream; none of them reached the upstream (rapid reset shows here).',
      labelNames: ['direction'],
    });
    this.#resetBeforeUpstream = { inbound: resets.add('inbound'), outbound: resets.add('outbound') };
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
      const slot = d * METHOD_LABELS.length + mi;
      series = {
        count: this.#requests.add(direction, m, codeLabel(c), peer.label),
        duration: (peer.durations[slot] ??= this.#duration.add(direction, m, peer.label)),
      };
      peer.requests.set(key, series);
    }
    series.count.value += 1;
    // A clock glitch (NaN, negative, Infinity) counts as 0 rather than poisoning the sum.
    series.duration.observe(durationSeconds > 0 && durationSeconds < Infinity ? durationSeconds : 0);
  }

  handshakeError(direction: Direction, reason: string): void {
    this.#handshakeErrors.at(direction, this.#reasons.label(reason)).value += 1;
  }

  authzDecision(decision: 'allow' | 'deny', peerId: string): void {
    const peer = this.#peer(peerId);
    if (decision === 'allow') (peer.allow ??= this.#authz.add('allow', peer.label)).value += 1;
    else (peer.deny ??= this.#authz.add('deny', peer.label)).value += 1;
  }

  connectionOpened(direction: Direction): void {
    this.#active[DIRECTION_INDEX[direction]]! += 1;
  }

  connectionClosed(direction: Direction): void {
    this.#active[DIRECTION_INDEX[direction]]! -= 1;
  }

  upstreamOverflow(direction: Direction, limit: OverflowLimit): void {
    this.#overflow[direction][limit].value += 1;
  }

  requestBodyTimeout(direction: Direction, reason: BodyTimeoutReason): void {
    this.#bodyTimeouts[direction][reason].value += 1;
  }

  streamResetBeforeUpstream(direction: Direction): void {
    this.#resetBeforeUpstream[direction].value += 1;
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
  return { label, requests: new Map(), durations: new Array<HistogramCell | undefined>(DIRECTIONS.length * METHOD_LABELS.length).fill(undefined), allow: undefined, deny: undefined };
}
