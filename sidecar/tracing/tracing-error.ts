import { SidecarError } from '../core/index.ts';

/** The stable codes a {@link TracingError} carries. */
export type TracingErrorCode =
  /** The OpenTelemetry packages could not be loaded (not installed, or broken). */
  | 'tracing.load_failed'
  /** The tracing options are out of range (parseConfig checks them first; this guards direct callers). */
  | 'tracing.invalid_options';

/** Raised by the tracing module; the message starts with "tracing:". */
export class TracingError extends SidecarError {
  declare readonly code: TracingErrorCode;

  constructor(code: TracingErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `tracing: ${message}`, options);
  }
}
