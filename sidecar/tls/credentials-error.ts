import { SidecarError } from '../core/index.ts';

/** Codes of {@link CredentialsError}. */
export type CredentialsErrorCode = 'tls.credentials_bad_option' | 'tls.credentials_too_many_listeners' | 'tls.credentials_unpublished';

/** A misuse of the credentials home: a bad option, more change listeners than its bound, or a read before anything was published. */
export class CredentialsError extends SidecarError {
  declare readonly code: CredentialsErrorCode;

  constructor(code: CredentialsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
