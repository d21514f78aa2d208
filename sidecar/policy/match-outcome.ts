/**
 * How one condition, entry or rule relates to a request. A number rather
 * than an object so that matching allocates nothing.
 * - `NO_MATCH`: it does not apply.
 * - `MATCH`: it applies.
 * - `NEEDS_PRINCIPAL`: no end-user token was presented, and it would apply
 *   if a token meeting its end-user conditions were; this is what turns a
 *   denial into `principal_required` (answered with 401, not 403).
 */
export type MatchOutcome = 0 | 1 | 2;

/** See {@link MatchOutcome}. */
export const NO_MATCH = 0;
/** See {@link MatchOutcome}. */
export const MATCH = 1;
/** See {@link MatchOutcome}. */
export const NEEDS_PRINCIPAL = 2;
