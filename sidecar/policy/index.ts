/**
 * policy: the authorization model of the data plane. Parses and validates
 * policy documents (docs/policy.md, versions 1 and 2), compiles them once,
 * and evaluates requests purely: peer SPIFFE ID, method, path, the verified
 * end user (principal) and addresses in, Decision out. Also owns
 * request-path normalisation, so the path that is authorized is the path
 * that is forwarded, and the peer-ID grammar (`id`, `idPrefix`,
 * `trustDomain`: peer-id-pattern.ts) that config uses for outbound servers.
 *
 * Must not do I/O (the caller reads files and watches for changes), must not
 * throw on the request path, must not verify or even see tokens (it gets a
 * principal that `auth` already verified, and must not import `auth`), and
 * must not know about sockets, TLS or HTTP servers: enforcement lives in
 * `inbound`/`outbound`, which also map deny reasons to status codes.
 */
export { parsePolicy } from './parse-policy.ts';
export type { ParsePolicyOptions } from './parse-policy.ts';
export { loadPolicyText } from './load-policy-text.ts';
export { evaluate } from './evaluate.ts';
export { explain } from './explain.ts';
export type { EntryExplanation, ExplainOutcome, Explanation, RuleExplanation } from './explain.ts';
export { DENY_REASONS, DRY_RUN_OUTCOMES, NO_DRY_RUN } from './decision.ts';
export type { Decision, DenyReason, DryRunResult } from './decision.ts';
export type { PolicyPrincipal, PolicyRequest } from './policy-request.ts';
export { Policy, allowAll, ALLOW_ALL_RULE, sameTrustDomainPolicy, SAME_TRUST_DOMAIN_RULE } from './policy.ts';
export type { PolicyContext } from './policy.ts';
export { PEER_ID_KEYS, PeerIdMatcher, describePeerIdPattern, isPeerIdKey, parsePeerIdPattern } from './peer-id-pattern.ts';
export type { PeerIdKey, PeerIdParse, PeerIdPattern, PeerIdPattern as CallerEntry } from './peer-id-pattern.ts';
export { normalizePath } from './normalize-path.ts';
export { ClaimPath } from './claim-path.ts';
export { PolicyError } from './policy-error.ts';
export type { PolicyErrorCode } from './policy-error.ts';
