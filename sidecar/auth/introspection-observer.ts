import type { TokenInvalidReason } from './verified-token.ts';

/** How one call to the introspection endpoint ended: 'valid', the refusal reason, or 'introspection_unavailable'. */
export type IntrospectionRequestResult = 'valid' | TokenInvalidReason | 'introspection_unavailable';

/**
 * Hooks the introspection verifier reports through, so metrics can count
 * calls and cache hits without auth depending on the metrics folder. Every
 * argument is a bounded label value. Implementations must be cheap and must
 * not throw: {@link IntrospectionObserver.cacheHit} runs on the request path.
 */
export interface IntrospectionObserver {
  /** One introspection (plus its phantom step, if any) finished. */
  request(provider: string, result: IntrospectionRequestResult): void;
  /** A verdict was served from the cache (positive or negative). */
  cacheHit(provider: string): void;
}

/** An observer that ignores everything; the default. */
export const noopIntrospectionObserver: IntrospectionObserver = Object.freeze({
  request() {},
  cacheHit() {},
});
