/**
 * workload: the SPIFFE Workload API client (grpc-js over the agent's Unix
 * socket or a loopback TCP address) and the sources proxies read their
 * identity from: X509Source (SVIDs + X.509 bundles) and JwtSource.
 *
 * Validates every message it receives before anything else sees it, and
 * reconnects on its own. It must not make trust decisions (that is `svid`
 * and `tls`) or read the process environment itself: the caller passes `env`.
 */
export { WorkloadApiClient, SECURITY_HEADER } from './workload-api-client.ts';
export type { WorkloadApiClientOptions, CallOptions, FetchJwtSvidParams } from './workload-api-client.ts';
export { X509Source } from './x509-source.ts';
export type { X509SourceOptions, X509SourceUpdate, X509SvidPicker } from './x509-source.ts';
export { JwtSource } from './jwt-source.ts';
export type { JwtSourceOptions } from './jwt-source.ts';
export type { X509Context } from './x509-context.ts';
export { parseX509SvidResponse, parseX509BundlesResponse, parseJwtBundlesResponse } from './x509-context.ts';
export type { Watcher, WatchHandle } from './stream-watch.ts';
export { WorkloadApiError, statusError } from './workload-api-error.ts';
export type { WorkloadApiErrorCode, GrpcStatusInfo } from './workload-api-error.ts';
export { parseEndpointAddress, endpointFromEnv, resolveEndpoint, SPIFFE_ENDPOINT_SOCKET } from './endpoint-address.ts';
export type { EndpointAddress } from './endpoint-address.ts';
export { Backoff } from './backoff.ts';
export type { BackoffOptions, BackoffJitter } from './backoff.ts';
export { classifyStatus, statusName } from './retry-policy.ts';
export type { RetryAction } from './retry-policy.ts';
export { loadWorkloadApiProto } from './workload-proto.ts';
export type { WorkloadApiProto, WorkloadApiService } from './workload-proto.ts';
export type {
  X509SvidMessage,
  X509SvidResponseMessage,
  X509BundlesResponseMessage,
  JwtSvidRequestMessage,
  JwtSvidMessage,
  JwtSvidResponseMessage,
  JwtBundlesResponseMessage,
  ValidateJwtSvidRequestMessage,
  ValidateJwtSvidResponseMessage,
  StructMessage,
  ValueMessage,
  WitSvidRequestMessage,
  WitSvidMessage,
  WitSvidResponseMessage,
  WitBundlesResponseMessage,
} from './workload-messages.ts';
export { ProtoError } from './proto-error.ts';
export type { ProtoErrorCode } from './proto-error.ts';
export { toStruct, fromStruct } from './struct-value.ts';
export type { JsonValue } from './struct-value.ts';
