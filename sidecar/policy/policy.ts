import { deepFreeze } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import { CompiledRule, type RuleDocument } from './compiled-rule.ts';
import { RemoteAddress, type RemoteAddressDocument } from './remote-address.ts';

/** Listener kind a policy was loaded for: 'tcp' policies were checked to have no request-level keys. */
export type PolicyContext = 'http' | 'tcp';

/** A validated document, as the parser hands it over. */
export interface PolicyDocument {
  readonly version: 1 | 2;
  readonly rules: readonly RuleDocument[];
  readonly remoteAddress?: RemoteAddressDocument;
}

/** What {@link Policy.describe} returns: JSON-ready, for /debug and logs. */
export interface PolicyDescription {
  /** Where the policy came from (file path, `env`, ...), as given to the loader. */
  readonly source: string;
  /** True for {@link allowAll}: no policy configured, every authenticated peer is allowed. */
  readonly allowAll: boolean;
  /**
   * Present (2) for version 2 documents; absent for version 1 and the
   * built-in policies. `{ version: version ?? 1, rules, remoteAddress }`
   * parses back to the same policy.
   */
  readonly version?: 2;
  /** The top-level `remoteAddress` settings, when the document has them. */
  readonly remoteAddress?: RemoteAddressDocument;
  /** The rules in document order. */
  readonly rules: readonly RuleDocument[];
}

/** Rule name reported in decisions made by {@link allowAll}; no user rule can have it (names are [A-Za-z0-9._-]). */
export const ALLOW_ALL_RULE = '(allow-all)';

let create: (source: string, doc: PolicyDocument, allowsAll: boolean, context: PolicyContext) => Policy;

/**
 * A loaded authorization policy, compiled once and evaluated with
 * `evaluate()`. Anything no enforced allow rule allows is denied, and an
 * enforced deny rule wins over every allow rule. Built only by
 * `parsePolicy`/`loadPolicyText` (which validate) or the built-ins.
 */
export class Policy {
  /** Where the policy came from, for messages. */
  readonly source: string;
  /** True only for {@link allowAll}. */
  readonly allowsAll: boolean;
  /** The document version (1 for the built-ins). */
  readonly version: 1 | 2;
  /** What the policy was checked for; a 'tcp' policy has no request-level keys. */
  readonly context: PolicyContext;
  /** Every compiled rule in document order. */
  readonly rules: readonly CompiledRule[];
  /** Enforced deny rules, in document order. */
  readonly denyRules: readonly CompiledRule[];
  /** Enforced allow rules, in document order; the first match names the decision. */
  readonly allowRules: readonly CompiledRule[];
  /** Rules with `dryRun: true`, in document order. */
  readonly dryRunRules: readonly CompiledRule[];
  /** The compiled `remoteAddress` settings, when given. */
  readonly remoteAddress: RemoteAddress | undefined;
  readonly #description: PolicyDescription;

  private constructor(source: string, doc: PolicyDocument, allowsAll: boolean, context: PolicyContext) {
    this.source = source;
    this.allowsAll = allowsAll;
    this.version = doc.version;
    this.context = context;
    this.rules = Object.freeze(doc.rules.map((r) => new CompiledRule(r)));
    this.denyRules = Object.freeze(this.rules.filter((r) => !r.dryRun && r.action === 'deny'));
    this.allowRules = Object.freeze(this.rules.filter((r) => !r.dryRun && r.action === 'allow'));
    this.dryRunRules = Object.freeze(this.rules.filter((r) => r.dryRun));
    this.remoteAddress = doc.remoteAddress === undefined ? undefined : new RemoteAddress(doc.remoteAddress);
    const rules = structuredClone(doc.rules);
    const remote = doc.remoteAddress === undefined ? {} : { remoteAddress: structuredClone(doc.remoteAddress) };
    this.#description = deepFreeze(
      doc.version === 1 ? { source, allowAll: allowsAll, rules } : { source, allowAll: allowsAll, version: 2 as const, ...remote, rules },
    );
    Object.freeze(this);
  }

  static {
    create = (source, doc, allowsAll, context) => new Policy(source, doc, allowsAll, context);
  }

  /** The policy as data, for /debug: source, whether it allows all, and the document in canonical form. */
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

/** Builds a Policy from a document the parser has validated; internal to this folder. */
export function policyFromValidatedDocument(source: string, doc: PolicyDocument, context: PolicyContext): Policy {
  return create(source, doc, false, context);
}

/**
 * The policy for "no policy configured": every authenticated peer (the TLS
 * layer has already checked its SVID against the trust bundle) is allowed
 * to make any request. Decisions name the rule {@link ALLOW_ALL_RULE}.
 * Paths are still normalised, so the app sees the same paths whether or not
 * a policy is loaded.
 */
export const allowAll: Policy = create('(no policy configured)', { version: 1, rules: [] }, true, 'http');

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
  return create(`(no policy file: same trust domain ${td.name})`, { version: 1, rules: [rule] }, false, 'http');
}
