import { SidecarError } from '../core/index.ts';

/** The stable codes an {@link OriginalDestinationError} carries. */
export type OriginalDestinationErrorCode =
  /** The native addon is missing or cannot be loaded (not built, wrong platform or Node ABI). */
  | 'transparent.addon_unavailable'
  /** The kernel refused the lookup for a reason other than "not redirected", or the socket has no descriptor. */
  | 'transparent.lookup_failed';

/** Raised by the transparent module; the message starts with "transparent:". */
export class OriginalDestinationError extends SidecarError {
  declare readonly code: OriginalDestinationErrorCode;

  constructor(code: OriginalDestinationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `transparent: ${message}`, options);
  }
}
