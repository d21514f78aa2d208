import { status as GrpcStatus } from '@grpc/grpc-js';
import { SidecarError } from '../core/index.ts';
import { classifyStatus, statusName } from './retry-policy.ts';

/** Stable codes of {@link WorkloadApiError}; tests and callers match on them. */
export type WorkloadApiErrorCode =
  /** The endpoint URI breaks a rule of the Workload Endpoint spec §4. */
  | 'workload.bad_address'
  /** No address was given and SPIFFE_ENDPOINT_SOCKET is unset or empty. */
  | 'workload.no_address'
  /** InvalidArgument or Unimplemented: retrying cannot help, the watch stopped. */
  | 'workload.fatal_status'
  /** PermissionDenied: the agent has issued no identity to this caller (yet). */
  | 'workload.no_identity'
  /** A retryable status or transport failure (agent down, restarting, busy). */
  | 'workload.transient'
  /** The server ended a stream without an error; the watch reconnects. */
  | 'workload.stream_ended'
  /** A response message failed validation; the previous state is kept. */
  | 'workload.bad_message'
  /** The source holds no usable X509-SVID. */
  | 'workload.no_svid'
  /** The client or source was closed. */
  | 'workload.closed'
  /** No valid update arrived within the configured time. */
  | 'workload.timeout'
  /** The caller's AbortSignal fired. */
  | 'workload.aborted';

/** The gRPC status an error came from, when it came from one. */
export interface GrpcStatusInfo {
  /** Numeric gRPC status code. */
  readonly code: number;
  /** The code's name, e.g. `PermissionDenied`. */
  readonly name: string;
  /** The server's message (status details). */
  readonly details: string;
}

/** Every failure of the Workload API client and sources. */
export class WorkloadApiError extends SidecarError {
  declare readonly code: WorkloadApiErrorCode;
  /** Set when the error reports a gRPC status. */
  readonly status: GrpcStatusInfo | undefined;

  constructor(
    code: WorkloadApiErrorCode,
    message: string,
    options: { cause?: unknown; status?: GrpcStatusInfo } = {},
  ) {
    super(code, `workload: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.status = options.status;
  }
}

/**
 * Maps a final gRPC status of a Workload API call to a typed error:
 * PermissionDenied → 'workload.no_identity', InvalidArgument/Unimplemented →
 * 'workload.fatal_status', OK (a stream the server closed) →
 * 'workload.stream_ended', anything else → 'workload.transient'.
 * The message names the method, the status and the server's text.
 */
export function statusError(method: string, s: { code: number; details: string }): WorkloadApiError {
  const name = statusName(s.code);
  const info: GrpcStatusInfo = { code: s.code, name, details: s.details };
  if (s.code === GrpcStatus.OK) {
    return new WorkloadApiError('workload.stream_ended', `${method}: the server ended the stream`, { status: info });
  }
  const text = `${method}: ${name}: ${s.details || '(no message)'}`;
  const action = classifyStatus(s.code);
  const code = action === 'fatal' ? 'workload.fatal_status' : action === 'no_identity' ? 'workload.no_identity' : 'workload.transient';
  return new WorkloadApiError(code, text, { status: info });
}
