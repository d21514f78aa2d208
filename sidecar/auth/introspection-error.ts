import { SidecarError } from '../core/index.ts';

/**
 * Why an introspection-side operation failed:
 * - 'introspection.invalid_options': the options break a rule (see {@link IntrospectionOptionsProblem});
 * - 'introspection.secret_file': the client secret file is missing, unreadable or empty;
 * - 'introspection.unavailable': the authorization server could not give a trustworthy answer
 *   (unreachable, timeout, non-200, not JSON, too large, not RFC 7662, a phantom JWT that does
 *   not verify); the verifier turns it into an `unavailable` outcome and never caches it.
 */
export type IntrospectionErrorCode = 'introspection.invalid_options' | 'introspection.secret_file' | 'introspection.unavailable';

/** Raised by the opaque-token half of the auth module; messages never contain tokens, secrets or query strings. */
export class IntrospectionError extends SidecarError {
  declare readonly code: IntrospectionErrorCode;

  constructor(code: IntrospectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The rule an introspection option breaks; stable, asserted by tests. */
export type IntrospectionOptionsProblemCode =
  | 'introspection.bad_name'
  | 'introspection.bad_url'
  | 'introspection.insecure_url'
  | 'introspection.bad_client_auth'
  | 'introspection.out_of_range'
  | 'introspection.bad_audiences'
  | 'introspection.bad_ca'
  | 'introspection.phantom_needs_issuer'
  | 'introspection.phantom_source';

/** One thing wrong with the options: where (a dotted path) and what. */
export interface IntrospectionOptionsProblem {
  readonly path: string;
  readonly code: IntrospectionOptionsProblemCode;
  readonly message: string;
}

/** Raised once by the verifier's constructor with every problem found in its options. */
export class IntrospectionOptionsError extends IntrospectionError {
  /** Every problem, in the order found; never empty. */
  readonly problems: readonly IntrospectionOptionsProblem[];

  constructor(provider: string, problems: readonly IntrospectionOptionsProblem[]) {
    const lines = problems.map((p) => `  ${p.path}: ${p.message} (${p.code})`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('introspection.invalid_options', `introspection: provider ${JSON.stringify(provider)} has invalid options: ${count}:\n${lines.join('\n')}`);
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}
