/**
 * headers: caller identity on HTTP requests, in one place. Inbound, strips
 * every identity header the caller sent and sets ours (the peer's SPIFFE ID
 * and an Envoy-style x-forwarded-client-cert); outbound, strips the ones the
 * app sent. The verified end user's headers (subject, issuer, client,
 * scopes, claims) follow the same strip-then-set rule. Also formats and
 * parses XFCC values.
 *
 * Pure: no sockets, no TLS, no policy decisions. It trusts that the
 * CallerIdentity it is given comes from a verified peer certificate; it must
 * never read identity from request headers.
 */
export { IdentityHeaders, DEFAULT_SPIFFE_ID_HEADER, DEFAULT_XFCC_HEADER } from './identity-headers.ts';
export type { IdentityHeaderOptions, HeaderObject, OutgoingHeaderObject } from './identity-headers.ts';
export { UserHeaders, DEFAULT_USER_HEADERS, MAX_CLAIMS_HEADER_BYTES, claimHeaderValue } from './user-identity.ts';
export type { UserIdentity, UserHeaderOptions, ClaimHeaderOptions } from './user-identity.ts';
export { callerIdentity } from './caller-identity.ts';
export type { CallerIdentity, CallerIdentityResult, PeerCertificate } from './caller-identity.ts';
export { formatXfcc } from './format-xfcc.ts';
export type { XfccElement, XfccPair } from './format-xfcc.ts';
export { parseXfcc, xfccValue } from './parse-xfcc.ts';
export { HeaderError } from './header-error.ts';
export { nameEquals } from './header-name.ts';
export { someListElement } from './field-list.ts';
export type { HeaderErrorCode } from './header-error.ts';
