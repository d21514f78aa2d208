/** Result label of one call to the token endpoint. */
export type ExchangeResult = 'ok' | 'subject_refused' | 'refused' | 'unavailable' | 'busy' | 'jwt_svid_unavailable';

/**
 * What the exchange client reports, for metrics (sidecar/metrics
 * implements it structurally). `route` comes from configuration.
 */
export interface ExchangeObserver {
  /** One exchange finished (or was refused before sending: `busy`, `jwt_svid_unavailable`). */
  exchanged(route: string, result: ExchangeResult, seconds: number): void;
  /** A request was served from the cache. */
  cacheHit(route: string): void;
}

/** An observer that records nothing. */
export const noopExchangeObserver: ExchangeObserver = Object.freeze({
  exchanged() {},
  cacheHit() {},
});
