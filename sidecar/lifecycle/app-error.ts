import { SidecarError } from '../core/index.ts';

/** Stable codes of {@link AppError}. */
export type AppErrorCode =
  /** A policy file could not be read or parsed at start-up. */
  | 'app.policy_file'
  /** A listener could not bind its address. */
  | 'app.listen_failed'
  /** The Workload API answered with a status retrying cannot fix (InvalidArgument, Unimplemented). */
  | 'app.workload_api'
  /** start() was called twice, or after stop(). */
  | 'app.lifecycle'
  /** End-user authentication cannot be built (an unreadable CA or secret file, a refused option). */
  | 'app.auth';

/** Failures of the sidecar's composition root and lifecycle. */
export class AppError extends SidecarError {
  declare readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
