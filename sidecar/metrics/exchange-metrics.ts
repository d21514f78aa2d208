import type { Histogram as PromHistogram, Registry } from 'prom-client';
import Histogram from 'prom-client/lib/histogram.js';
import { BoundedLabel } from './label-values.ts';
import { PlainCounter } from './plain-series.ts';

/** Distinct route names labelled individually (they come from configuration; this is a guard). */
const MAX_ROUTES = 64;
/** Seconds; an exchange is one HTTPS round trip to the authorization server, bounded by its timeout. */
const EXCHANGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Outbound token exchange metrics (RFC 8693), on the sidecar's registry:
 * exchanges by route and result, cache hits by route, and exchange latency
 * by result. Implements sidecar/exchange's ExchangeObserver structurally.
 * A cache hit happens per outbound request, so the counters are plain
 * numbers handed to prom-client at scrape time (plain-series.ts); the
 * latency histogram, one observation per round trip to the authorization
 * server, stays prom-client's.
 */
export class ExchangeMetrics {
  readonly #exchanges: PlainCounter;
  readonly #hits: PlainCounter;
  readonly #latency: PromHistogram<'result'>;
  readonly #routes = new BoundedLabel(MAX_ROUTES);

  constructor(registry: Registry) {
    this.#exchanges = new PlainCounter(registry, {
      name: 'sidecar_token_exchanges_total',
      help: 'Outbound token exchanges (RFC 8693), by route and result (ok, subject_refused, refused, unavailable, busy, jwt_svid_unavailable).',
      labelNames: ['route', 'result'],
    });
    this.#hits = new PlainCounter(registry, {
      name: 'sidecar_token_exchange_cache_hits_total',
      help: 'Outbound requests that got their exchanged token from the cache, by route.',
      labelNames: ['route'],
    });
    this.#latency = new Histogram({
      name: 'sidecar_token_exchange_duration_seconds',
      help: 'Time one token exchange took, by result.',
      labelNames: ['result'],
      buckets: EXCHANGE_BUCKETS,
      registers: [registry],
    });
  }

  /** ExchangeObserver: one exchange finished. */
  exchanged(route: string, result: string, seconds: number): void {
    this.#exchanges.at(this.#routes.label(route), result).value += 1;
    this.#latency.observe({ result }, seconds);
  }

  /** ExchangeObserver: a cache hit. */
  cacheHit(route: string): void {
    this.#hits.at(this.#routes.label(route)).value += 1;
  }
}
