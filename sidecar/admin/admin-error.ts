import { SidecarError } from '../core/index.ts';

/** Raised when the admin listener cannot start ('admin.listen_failed'). */
export class AdminError extends SidecarError {
  declare readonly code: 'admin.listen_failed';

  constructor(code: 'admin.listen_failed', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
