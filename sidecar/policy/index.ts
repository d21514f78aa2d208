/**
 * policy: the authorization model of the data plane. Parses and validates
 * policy documents (docs/policy.md), compiles them once, and evaluates
 * requests purely: peer SPIFFE ID + method + path in, Decision out.
 * Also owns request-path normalisation, so the path that is authorized is
 * the path that is forwarded.
 *
 * Must not do I/O (the caller reads files and watches for changes), must not
 * throw on the request path, and must not know about sockets, TLS or HTTP
 * servers: enforcement lives in `inbound`/`outbound`.
 */
export { parsePolicy, POLICY_VERSION } from './parse-policy.ts';
export { loadPolicyText } from './load-policy-text.ts';
export { evaluate, DENY_REASONS } from './evaluate.ts';
export type { Decision, DenyReason, PolicyRequest } from './evaluate.ts';
export { Policy, allowAll, ALLOW_ALL_RULE, sameTrustDomainPolicy, SAME_TRUST_DOMAIN_RULE } from './policy.ts';
export type { PolicyDescription, RuleDocument } from './policy.ts';
export type { CallerEntry } from './caller-matcher.ts';
export type { RequestEntry } from './request-matcher.ts';
export { normalizePath } from './normalize-path.ts';
export type { NormalizedPath } from './normalize-path.ts';
export { PolicyError } from './policy-error.ts';
export type { PolicyErrorCode } from './policy-error.ts';
