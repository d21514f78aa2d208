import { SidecarError } from '../core/index.ts';

/** Codes a {@link PolicyError} can carry: the document is wrong, or its YAML/JSON text does not parse. */
export type PolicyErrorCode = 'policy.invalid' | 'policy.syntax';

/**
 * Raised when a policy document cannot be loaded. One error carries every
 * problem found, so an operator fixes them all in one pass instead of one per
 * run (config parsing does the same), each prefixed with
 * its location, e.g. `rules[2].from[0].id: invalid SPIFFE ID "...": ...`.
 */
export class PolicyError extends SidecarError {
  declare readonly code: PolicyErrorCode;
  /** Each problem on its own, location first; the message lists them too. */
  readonly problems: readonly string[];

  constructor(code: PolicyErrorCode, source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(code, formatMessage(code, source, problems), options);
    this.problems = Object.freeze([...problems]);
  }
}

/** Most problems spelled out in the message; the rest stay in `problems`. */
const MAX_LISTED = 50;

function formatMessage(code: PolicyErrorCode, source: string, problems: readonly string[]): string {
  const what = code === 'policy.syntax' ? 'cannot parse' : 'invalid policy';
  const n = problems.length;
  const head = `policy: ${what} ${source} (${n} problem${n === 1 ? '' : 's'}):`;
  const listed = problems.slice(0, MAX_LISTED).map((p) => `\n  - ${p}`).join('');
  const more = n > MAX_LISTED ? `\n  ... and ${n - MAX_LISTED} more` : '';
  return head + listed + more;
}
