/**
 * Why a request was denied; a closed set, safe as a metric label.
 * - `bad_path`: the request-target was refused by normalizePath (answer 400).
 * - `principal_required`: no end-user token was presented, and a rule that
 *   needs one would otherwise have allowed the request (answer 401, so the
 *   client knows to authenticate; RFC 9110 §15.5.2).
 * - `denied_by_rule`: an enforced rule with `action: deny` matched (answer 403).
 * - `caller_not_listed`: no enforced allow rule names the peer's SPIFFE ID
 *   (`id`, `idPrefix`, `trustDomain`; an entry without one names nobody in
 *   particular) (answer 403).
 * - `no_matching_rule`: some allow rule names the peer, but none allows this
 *   request or plain TCP connection (answer 403).
 */
export type DenyReason = 'bad_path' | 'principal_required' | 'denied_by_rule' | 'caller_not_listed' | 'no_matching_rule';

/** Every {@link DenyReason}, for pre-registering metric label values. */
export const DENY_REASONS: readonly DenyReason[] = Object.freeze([
  'bad_path',
  'principal_required',
  'denied_by_rule',
  'caller_not_listed',
  'no_matching_rule',
]);

/** What a `dryRun: true` rule would have done had it been enforced. */
export type DryRunOutcome = 'would_allow' | 'would_deny';

/** Every {@link DryRunOutcome}, for pre-registering metric label values. */
export const DRY_RUN_OUTCOMES: readonly DryRunOutcome[] = Object.freeze(['would_allow', 'would_deny']);

/** One dry-run rule that matched the request; the caller logs and counts it. */
export interface DryRunResult {
  /** The rule's name (a bounded metric label: names come from the policy file). */
  readonly rule: string;
  readonly outcome: DryRunOutcome;
}

/** The dry-run list of a decision when no dry-run rule matched: shared, so the common path allocates nothing. */
export const NO_DRY_RUN: readonly DryRunResult[] = Object.freeze([]);

/** The outcome of `evaluate`. */
export type Decision =
  | {
      readonly allow: true;
      /** Name of the first enforced rule that allowed the request (or a built-in policy's name). */
      readonly rule: string;
      /**
       * The request-target the proxy must forward instead of the one it
       * received (normalised path + original query), so the app acts on
       * exactly the path that was authorized. undefined when no path was given.
       */
      readonly forwardTarget: string | undefined;
      /** Dry-run rules that matched; {@link NO_DRY_RUN} when none. Never affects `allow`. */
      readonly dryRun: readonly DryRunResult[];
    }
  | {
      readonly allow: false;
      readonly reason: DenyReason;
      /**
       * One line for logs: peer ID, method, normalised path, and the end
       * user's issuer and subject when relevant; never other claim values or
       * tokens. Not for response bodies.
       */
      readonly detail: string;
      /** The deny rule that matched (`denied_by_rule`) or the rule that needs a token (`principal_required`). */
      readonly rule: string | undefined;
      /** Dry-run rules that matched; {@link NO_DRY_RUN} when none. */
      readonly dryRun: readonly DryRunResult[];
    };
