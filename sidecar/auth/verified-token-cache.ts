import type { TokenOutcome } from './verified-token.ts';
import type { TokenBinding } from './jwt-claims.ts';

/**
 * A token that passed every check, as the token authenticator's
 * TokenDigestCache remembers it. Holds the ready-made `valid` outcome so a
 * cache hit allocates nothing.
 */
export class VerifiedEntry {
  /** The `{ kind: 'valid' }` outcome, frozen. */
  readonly outcome: TokenOutcome;
  /** Index of the provider that verified it. */
  readonly provider: number;
  /** First instant (ms) the token is no longer valid: `exp` plus the allowed skew. */
  readonly validUntilMs: number;
  readonly binding: TokenBinding;
  /** The key set (or JWT bundle) it was verified with: when the provider's current one differs, the token is checked again. */
  readonly keyRef: object;
  /** What the provider needs to find its current key set for this token (the trust domain of a JWT-SVID). */
  readonly scope: unknown;

  constructor(outcome: TokenOutcome, provider: number, validUntilMs: number, binding: TokenBinding, keyRef: object, scope: unknown) {
    this.outcome = outcome;
    this.provider = provider;
    this.validUntilMs = validUntilMs;
    this.binding = binding;
    this.keyRef = keyRef;
    this.scope = scope;
    Object.freeze(this);
  }
}
