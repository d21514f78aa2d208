import { SidecarError } from '../core/index.ts';

/**
 * Codes a {@link HeaderError} can carry:
 * - `headers.invalid_name`: a configured header name is unusable (startup).
 * - `headers.invalid_value`: a value we would send is unsafe (CR, LF, NUL,
 *   other controls, non-ASCII) or malformed; the proxy answers 400.
 * - `headers.xfcc_syntax`: an x-forwarded-client-cert value does not parse.
 */
export type HeaderErrorCode = 'headers.invalid_name' | 'headers.invalid_value' | 'headers.xfcc_syntax';

/** Raised (or returned, on the request path) when an identity header cannot be built or read. */
export class HeaderError extends SidecarError {
  declare readonly code: HeaderErrorCode;

  constructor(code: HeaderErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
