import type { TokenInvalidReason, TokenUnavailableReason } from './verified-token.ts';

/** What one token check came to, as the observer sees it: 'valid' or the refusal reason. */
export type TokenCheckResult = 'valid' | TokenInvalidReason | TokenUnavailableReason;

/** How one key-set fetch ended: 'ok', 'unchanged' (a key file that did not change), or 'error'. */
export type KeyFetchResult = 'ok' | 'unchanged' | 'error';

/**
 * Hooks the auth module reports through, so metrics can count validations
 * and key fetches without auth depending on the metrics folder. Every
 * argument is a bounded label value: provider names come from configuration,
 * results from closed sets. Implementations must be cheap and must not throw:
 * {@link AuthObserver.tokenValidated} runs on every authenticated request.
 */
export interface AuthObserver {
  /** One JWT check finished (cache hits included); `provider` is '' when no provider took the token. */
  tokenValidated(provider: string, result: TokenCheckResult): void;
  /** One fetch of a provider's key set (JWKS, discovery document or key file) finished. */
  keyFetch(provider: string, result: KeyFetchResult): void;
  /** Age in seconds of the key set the provider uses, reported after every fetch attempt. */
  keySetAge(provider: string, seconds: number): void;
}

/** An observer that ignores everything; the default. */
export const noopAuthObserver: AuthObserver = Object.freeze({
  tokenValidated() {},
  keyFetch() {},
  keySetAge() {},
});
