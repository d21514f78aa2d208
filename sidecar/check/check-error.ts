import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link CheckError}. */
export type CheckErrorCode =
  /** `--admin` is not an http:// URL of a host and port. */
  | 'check.bad_admin_url';

/** Bad input to `spiffe-sidecar check` that no check can run on. */
export class CheckError extends SidecarError {
  declare readonly code: CheckErrorCode;

  constructor(code: CheckErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
