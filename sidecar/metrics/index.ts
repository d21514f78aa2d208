/**
 * metrics: the sidecar's Prometheus metrics, one prom-client Registry per
 * sidecar instance, and the small ProxyMetrics interface the proxies call
 * on every request. What changes per request adds to plain numbers that
 * prom-client reads at scrape time (plain-series.ts, decision 018).
 *
 * Must not use prom-client's global registry or its index module (which
 * loads cluster and push-gateway support), serve HTTP (that is `admin`),
 * allocate on the request path, or let label values grow without bound.
 */
export { SidecarMetrics, REQUEST_DURATION_BUCKETS } from './sidecar-metrics.ts';
export { AuthMetrics } from './auth-metrics.ts';
export { ExchangeMetrics } from './exchange-metrics.ts';
export { EgressMetrics } from './egress-metrics.ts';
export type { SidecarMetricsOptions } from './sidecar-metrics.ts';
export { noopProxyMetrics, OVERFLOW_LIMITS, BODY_TIMEOUT_REASONS } from './proxy-metrics.ts';
export type { Direction, ProxyMetrics, OverflowLimit, BodyTimeoutReason } from './proxy-metrics.ts';
export { OTHER_METHOD, OVERFLOW_LABEL } from './label-values.ts';
