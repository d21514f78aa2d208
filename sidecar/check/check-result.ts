/** How a check came out: `warn` is reported but does not fail `spiffe-sidecar check`. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The verdict of one named check: what was found and, unless ok, how to fix it. */
export interface CheckResult {
  /** Stable, kebab-case: `workload-api`, `svid`, `iptables`, ... */
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found, one line. */
  readonly detail: string;
  /** What to do about it; '' when the check passed. */
  readonly fix: string;
}

/** A passed check. */
export function ok(name: string, detail: string): CheckResult {
  return { name, status: 'ok', detail, fix: '' };
}

/** A finding worth a look that does not fail the run. */
export function warn(name: string, detail: string, fix: string): CheckResult {
  return { name, status: 'warn', detail, fix };
}

/** A failed check. */
export function fail(name: string, detail: string, fix: string): CheckResult {
  return { name, status: 'fail', detail, fix };
}

/** A check that could not run because one it depends on failed; a warning, the failure is reported once. */
export function skipped(name: string, because: string): CheckResult {
  return warn(name, `not checked: ${because}`, 'fix the failure above first');
}

/** True when no check failed (warnings pass). */
export function allPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status !== 'fail');
}
