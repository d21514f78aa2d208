import type { TrustDomain } from '../spiffe/index.ts';
import { CallerMatcher, type CallerEntry } from './caller-matcher.ts';
import { RequestMatcher, type RequestEntry } from './request-matcher.ts';

/** A validated rule in document form (canonical spellings), as {@link Policy.describe} shows it. */
export interface RuleDocument {
  readonly name: string;
  readonly from: readonly CallerEntry[];
  /** Absent: any request, and plain TCP connections. */
  readonly to?: readonly RequestEntry[];
}

/** What {@link Policy.describe} returns: JSON-ready, for /debug and logs. */
export interface PolicyDescription {
  /** Where the policy came from (file path, `env`, ...), as given to the loader. */
  readonly source: string;
  /** True for {@link allowAll}: no policy configured, every authenticated peer is allowed. */
  readonly allowAll: boolean;
  /** The rules in evaluation order; `{ version: 1, rules }` parses back to the same policy. */
  readonly rules: readonly RuleDocument[];
}

/** One rule compiled for evaluation. */
export interface CompiledRule {
  readonly name: string;
  readonly callers: CallerMatcher;
  /** null when the rule has no `to`: any request, and TCP. */
  readonly requests: readonly RequestMatcher[] | null;
}

/** Rule name reported in decisions made by {@link allowAll}; no user rule can have it (names are [A-Za-z0-9._-]). */
export const ALLOW_ALL_RULE = '(allow-all)';

let create: (source: string, rules: readonly RuleDocument[], allowsAll: boolean) => Policy;

/**
 * A loaded authorization policy: allow rules, compiled once, evaluated with
 * `evaluate()`. Anything no rule allows is denied. Built only by
 * `parsePolicy`/`loadPolicyText` (which validate) or {@link allowAll}.
 */
export class Policy {
  /** Where the policy came from, for messages. */
  readonly source: string;
  /** True only for {@link allowAll}. */
  readonly allowsAll: boolean;
  /** Compiled rules in document order; the first match names the decision. */
  readonly rules: readonly CompiledRule[];
  readonly #description: PolicyDescription;

  private constructor(source: string, rules: readonly RuleDocument[], allowsAll: boolean) {
    this.source = source;
    this.allowsAll = allowsAll;
    this.rules = Object.freeze(
      rules.map((r) =>
        Object.freeze({
          name: r.name,
          callers: new CallerMatcher(r.from),
          requests: r.to === undefined ? null : Object.freeze(r.to.map((t) => new RequestMatcher(t))),
        }),
      ),
    );
    this.#description = deepFreeze({ source, allowAll: allowsAll, rules: structuredClone(rules) });
    Object.freeze(this);
  }

  static {
    create = (source, rules, allowsAll) => new Policy(source, rules, allowsAll);
  }

  /** The policy as data, for /debug: source, whether it allows all, and the rules in document form. */
  describe(): PolicyDescription {
    return this.#description;
  }

  /** One line for logs, e.g. `policy /etc/sidecar/policy.yaml: 3 rules`. */
  toString(): string {
    if (this.allowsAll) return `policy ${this.source}: allow all authenticated peers`;
    const n = this.rules.length;
    return `policy ${this.source}: ${n} rule${n === 1 ? '' : 's'}`;
  }
}

/** Builds a Policy from rules the parser has validated; internal to this folder. */
export function policyFromValidatedRules(source: string, rules: readonly RuleDocument[]): Policy {
  return create(source, rules, false);
}

/**
 * The policy for "no policy configured": every authenticated peer (the TLS
 * layer has already checked its SVID against the trust bundle) is allowed
 * to make any request. Decisions name the rule {@link ALLOW_ALL_RULE}.
 * Paths are still normalised, so the app sees the same paths whether or not
 * a policy is loaded.
 */
export const allowAll: Policy = create('(no policy configured)', [], true);

/** Rule name reported in decisions made by {@link sameTrustDomainPolicy}. */
export const SAME_TRUST_DOMAIN_RULE = '(same-trust-domain)';

/**
 * A policy allowing any peer of trust domain `td` to make any request (and
 * open TCP connections), nobody else: the default docs/config.md describes
 * for a proxy without a policy file. Decisions name the rule
 * {@link SAME_TRUST_DOMAIN_RULE}.
 */
export function sameTrustDomainPolicy(td: TrustDomain): Policy {
  const rule: RuleDocument = { name: SAME_TRUST_DOMAIN_RULE, from: [{ trustDomain: td.name }] };
  return create(`(no policy file: same trust domain ${td.name})`, [rule], false);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
