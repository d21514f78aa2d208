import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link AdminError}. */
export type AdminErrorCode = 'admin.listen_failed' | 'admin.app_probes_invalid';

/**
 * Raised when the admin listener cannot start ('admin.listen_failed') or is
 * given app probes it cannot serve ('admin.app_probes_invalid').
 */
export class AdminError extends SidecarError {
  declare readonly code: AdminErrorCode;

  constructor(code: AdminErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
