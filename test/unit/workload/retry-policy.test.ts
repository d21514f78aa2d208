import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { classifyStatus, statusError, statusName } from '../../../sidecar/workload/index.ts';

// Status → reaction, SPIFFE_Workload_Endpoint.md §6 and Appendix A. The spec names
// four codes; everything else is treated as a transient agent problem.
const table: { code: number; name: string; action: string; errorCode: string }[] = [
  { code: status.INVALID_ARGUMENT, name: 'InvalidArgument', action: 'fatal', errorCode: 'workload.fatal_status' },
  { code: status.UNIMPLEMENTED, name: 'Unimplemented', action: 'fatal', errorCode: 'workload.fatal_status' },
  { code: status.PERMISSION_DENIED, name: 'PermissionDenied', action: 'no_identity', errorCode: 'workload.no_identity' },
  { code: status.UNAVAILABLE, name: 'Unavailable', action: 'retry', errorCode: 'workload.transient' },
  { code: status.CANCELLED, name: 'Cancelled', action: 'retry', errorCode: 'workload.transient' },
  { code: status.UNKNOWN, name: 'Unknown', action: 'retry', errorCode: 'workload.transient' },
  { code: status.INTERNAL, name: 'Internal', action: 'retry', errorCode: 'workload.transient' },
  { code: status.DEADLINE_EXCEEDED, name: 'DeadlineExceeded', action: 'retry', errorCode: 'workload.transient' },
  { code: status.RESOURCE_EXHAUSTED, name: 'ResourceExhausted', action: 'retry', errorCode: 'workload.transient' },
  { code: status.NOT_FOUND, name: 'NotFound', action: 'retry', errorCode: 'workload.transient' },
  { code: status.ALREADY_EXISTS, name: 'AlreadyExists', action: 'retry', errorCode: 'workload.transient' },
  { code: status.FAILED_PRECONDITION, name: 'FailedPrecondition', action: 'retry', errorCode: 'workload.transient' },
  { code: status.ABORTED, name: 'Aborted', action: 'retry', errorCode: 'workload.transient' },
  { code: status.OUT_OF_RANGE, name: 'OutOfRange', action: 'retry', errorCode: 'workload.transient' },
  { code: status.DATA_LOSS, name: 'DataLoss', action: 'retry', errorCode: 'workload.transient' },
  { code: status.UNAUTHENTICATED, name: 'Unauthenticated', action: 'retry', errorCode: 'workload.transient' },
];

for (const row of table) {
  test(`${row.name} → ${row.action} (${row.errorCode})`, () => {
    assert.equal(classifyStatus(row.code), row.action);
    assert.equal(statusName(row.code), row.name);
    const err = statusError('FetchX509SVID', { code: row.code, details: 'agent says no' });
    assert.equal(err.code, row.errorCode);
    assert.deepEqual(err.status, { code: row.code, name: row.name, details: 'agent says no' });
    assert.equal(err.message, `workload: FetchX509SVID: ${row.name}: agent says no`);
  });
}

test('a stream the server ended with OK is workload.stream_ended', () => {
  const err = statusError('FetchJWTBundles', { code: status.OK, details: '' });
  assert.equal(err.code, 'workload.stream_ended');
  assert.match(err.message, /FetchJWTBundles: the server ended the stream/);
});

test('an unknown numeric code still gets a name', () => {
  assert.equal(statusName(99), 'Code(99)');
});
