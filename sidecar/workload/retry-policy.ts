import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * What a watch does after its stream ended with a status:
 * - retry: reconnect after the backoff delay;
 * - no_identity: reconnect after the backoff, and drop what the stream had delivered;
 * - fatal: report and stop, retrying cannot help.
 */
export type RetryAction = 'retry' | 'no_identity' | 'fatal';

/**
 * Classifies a gRPC status code of an ended Workload API stream (Workload
 * Endpoint spec §6, Appendix A).
 *
 * The spec names four codes. InvalidArgument (missing security header, bad
 * request) and Unimplemented (RPC not offered) will not change by retrying,
 * so the watch stops; go-spiffe retries Unimplemented, which only loops.
 * PermissionDenied may be eventual consistency on the agent, so it retries.
 * Everything else (Unavailable, Unknown, Internal, a server-side Cancelled,
 * a clean end, transport failures) is treated as an agent restart or hiccup.
 * A Cancelled caused by our own cancel() never reaches this function.
 */
export function classifyStatus(code: number): RetryAction {
  switch (code) {
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.UNIMPLEMENTED:
      return 'fatal';
    case GrpcStatus.PERMISSION_DENIED:
      return 'no_identity';
    default:
      return 'retry';
  }
}

const names: Record<number, string> = {
  0: 'OK',
  1: 'Cancelled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

/** The canonical CamelCase name of a gRPC status code (`PermissionDenied`). */
export function statusName(code: number): string {
  return names[code] ?? `Code(${code})`;
}
