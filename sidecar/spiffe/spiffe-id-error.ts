import { SidecarError } from '../core/index.ts';

/** Every reason a SPIFFE ID or trust domain can be rejected; one code per rule of SPIFFE-ID.md §2. */
export type SpiffeIdErrorCode =
  | 'spiffeid.empty'
  | 'spiffeid.bad_scheme'
  | 'spiffeid.trust_domain_missing'
  | 'spiffeid.trust_domain_char'
  | 'spiffeid.trust_domain_too_long'
  | 'spiffeid.too_long'
  | 'spiffeid.path_no_leading_slash'
  | 'spiffeid.path_empty_segment'
  | 'spiffeid.path_dot_segment'
  | 'spiffeid.path_char'
  | 'spiffeid.path_trailing_slash';

/** Raised when a SPIFFE ID, trust domain name or path breaks a rule of the SPIFFE ID spec. */
export class SpiffeIdError extends SidecarError {
  declare readonly code: SpiffeIdErrorCode;

  constructor(code: SpiffeIdErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
