import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** Decoded `X509SVID` (snake_case, as on the wire). */
export interface X509SvidMessage {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}

/** Decoded `X509SVIDResponse`. */
export interface X509SvidResponseMessage {
  svids: X509SvidMessage[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}

/** Decoded `X509BundlesResponse`. */
export interface X509BundlesResponseMessage {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}

/** `JWTSVIDRequest`. */
export interface JwtSvidRequestMessage {
  audience: string[];
  spiffe_id: string;
}

/** Decoded `JWTSVID`. */
export interface JwtSvidMessage {
  spiffe_id: string;
  svid: string;
  hint: string;
}

/** Decoded `JWTSVIDResponse`. */
export interface JwtSvidResponseMessage {
  svids: JwtSvidMessage[];
}

/** Decoded `JWTBundlesResponse`. */
export interface JwtBundlesResponseMessage {
  bundles: Record<string, Buffer>;
}

/** `ValidateJWTSVIDRequest`. */
export interface ValidateJwtSvidRequestMessage {
  audience: string;
  svid: string;
}

/** `google.protobuf.Struct` as proto-loader encodes and decodes it. */
export interface StructMessage {
  fields: Record<string, ValueMessage>;
}

/** `google.protobuf.Value` as proto-loader encodes and decodes it (one member set). */
export interface ValueMessage {
  kind?: string;
  nullValue?: string | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values: ValueMessage[] };
}

/** Decoded `ValidateJWTSVIDResponse`. */
export interface ValidateJwtSvidResponseMessage {
  spiffe_id: string;
  claims: StructMessage | null;
}

/** The methods of the `SpiffeWorkloadAPI` service with their message types. */
export interface WorkloadApiService extends ServiceDefinition {
  FetchX509SVID: MethodDefinition<Record<string, never>, X509SvidResponseMessage>;
  FetchX509Bundles: MethodDefinition<Record<string, never>, X509BundlesResponseMessage>;
  FetchJWTSVID: MethodDefinition<JwtSvidRequestMessage, JwtSvidResponseMessage>;
  FetchJWTBundles: MethodDefinition<Record<string, never>, JwtBundlesResponseMessage>;
  ValidateJWTSVID: MethodDefinition<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage>;
  FetchWITSVID: MethodDefinition<{ spiffe_id: string }, unknown>;
  FetchWITBundles: MethodDefinition<Record<string, never>, unknown>;
}

/**
 * The loaded proto. The service definition carries each method's request and
 * response codecs, which servers and tests use to encode messages exactly as
 * they travel on the wire.
 */
export interface WorkloadApiProto {
  readonly service: WorkloadApiService;
}

/**
 * Where workload.proto lives: next to this module in the source tree, or
 * under sidecar/workload/proto when running the compiled dist/ build (the
 * package ships that folder; see package.json "files").
 */
function protoPath(): string {
  const candidates = [
    new URL('./proto/workload.proto', import.meta.url),
    new URL('../../sidecar/workload/proto/workload.proto', import.meta.url),
  ];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  return fileURLToPath(candidates[0]!);
}

let loaded: WorkloadApiProto | undefined;

/**
 * Loads workload.proto once per process and returns the `SpiffeWorkloadAPI`
 * service definition (method paths `/SpiffeWorkloadAPI/<Method>`; the proto
 * has no package, see the header of sidecar/workload/proto/workload.proto).
 */
export function loadWorkloadApiProto(): WorkloadApiProto {
  if (loaded) return loaded;
  const def = loadSync(protoPath(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = def['SpiffeWorkloadAPI'] as unknown as WorkloadApiService;
  loaded = { service };
  return loaded;
}
