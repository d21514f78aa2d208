import { SidecarError } from '../core/index.ts';

/** The rule a provider or authenticator option breaks; stable, asserted by tests and shown by config. */
export type AuthOptionsProblemCode =
  | 'auth.bad_name'
  | 'auth.duplicate_name'
  | 'auth.missing_issuer'
  | 'auth.duplicate_issuer'
  | 'auth.bad_audiences'
  | 'auth.key_source'
  | 'auth.bad_url'
  | 'auth.insecure_url'
  | 'auth.alg_none'
  | 'auth.unsupported_algorithm'
  | 'auth.hmac_needs_keys_file'
  | 'auth.bad_typ'
  | 'auth.out_of_range'
  | 'auth.bad_location'
  | 'auth.duplicate_workload_provider'
  | 'auth.no_bundle_source'
  | 'auth.bad_ca';

/** One thing wrong with the options: where (a dotted path relative to the options object) and what. */
export interface AuthOptionsProblem {
  /** `providers[1].audiences`, `maxTokenBytes`, ... */
  readonly path: string;
  readonly code: AuthOptionsProblemCode;
  /** What is wrong; quotes the offending value (escaped) when there is one. */
  readonly message: string;
}

/**
 * Raised once by the authenticator's constructor with every problem found in
 * its options, so an operator fixes them all in one round. Each problem has
 * its own code; the error's code is always 'auth.invalid_options'.
 */
export class AuthOptionsError extends SidecarError {
  declare readonly code: 'auth.invalid_options';
  /** Every problem, in the order found. Never empty. */
  readonly problems: readonly AuthOptionsProblem[];

  constructor(problems: readonly AuthOptionsProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${p.path}: ${p.message} (${p.code})`);
    super('auth.invalid_options', `auth: invalid token authentication options: ${count}:\n${lines.join('\n')}`);
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}
