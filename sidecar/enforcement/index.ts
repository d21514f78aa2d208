/**
 * enforcement: the one place an inbound request or connection is
 * authorized. Peer identity (verified by TLS) → end-user token (auth) →
 * policy → identity headers, and the closed set of local answers
 * (400/401/403/431/503) with their statuses, bodies and headers.
 *
 * Pure decision code over a request record: no sockets, no HTTP framing,
 * no upstreams. It must never read identity from request headers other
 * than through the authenticator, and never let a request through when a
 * check could not be made.
 */
export { InboundEnforcement } from './inbound-enforcement.ts';
export type { InboundEnforcementOptions, InboundRequest, RequestAuthenticator, EnforcementObserver, ConnectionDecisionSink } from './inbound-enforcement.ts';
export { INBOUND_ANSWERS, INVALID_TOKEN_ANSWERS } from './local-answer.ts';
export type { LocalAnswer } from './local-answer.ts';
export { forwardedFor, MAX_FORWARDED_HOPS } from './forwarded-for.ts';
