import { SidecarError } from '../core/index.ts';

/** Bad options given to the audit log (a wiring bug; config validates the same values first). */
export class AuditOptionsError extends SidecarError {
  declare readonly code: 'audit.bad_options';

  constructor(message: string) {
    super('audit.bad_options', `audit: ${message}`);
  }
}
