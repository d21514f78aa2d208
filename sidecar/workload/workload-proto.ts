import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { workloadCodecs, type MessageCodec } from './workload-codec.ts';
import type {
  X509SvidResponseMessage,
  X509BundlesResponseMessage,
  JwtSvidRequestMessage,
  JwtSvidResponseMessage,
  JwtBundlesResponseMessage,
  ValidateJwtSvidRequestMessage,
  ValidateJwtSvidResponseMessage,
  WitSvidRequestMessage,
  WitSvidResponseMessage,
  WitBundlesResponseMessage,
} from './workload-messages.ts';

/** The methods of the `SpiffeWorkloadAPI` service with their message types. */
export interface WorkloadApiService extends ServiceDefinition {
  FetchX509SVID: MethodDefinition<Record<string, never>, X509SvidResponseMessage>;
  FetchX509Bundles: MethodDefinition<Record<string, never>, X509BundlesResponseMessage>;
  FetchJWTSVID: MethodDefinition<JwtSvidRequestMessage, JwtSvidResponseMessage>;
  FetchJWTBundles: MethodDefinition<Record<string, never>, JwtBundlesResponseMessage>;
  ValidateJWTSVID: MethodDefinition<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage>;
  FetchWITSVID: MethodDefinition<WitSvidRequestMessage, WitSvidResponseMessage>;
  FetchWITBundles: MethodDefinition<Record<string, never>, WitBundlesResponseMessage>;
}

/**
 * The `SpiffeWorkloadAPI` service definition. Each method carries its
 * request and response codecs, which servers and tests use to encode
 * messages exactly as they travel on the wire.
 */
export interface WorkloadApiProto {
  readonly service: WorkloadApiService;
}

function method<Req, Res>(name: string, streaming: boolean, req: MessageCodec<Req>, res: MessageCodec<Res>): MethodDefinition<Req, Res> {
  return {
    // The proto has no package (see the header of sidecar/workload/proto/workload.proto).
    path: `/SpiffeWorkloadAPI/${name}`,
    requestStream: false,
    responseStream: streaming,
    requestSerialize: req.encode,
    requestDeserialize: req.decode,
    responseSerialize: res.encode,
    responseDeserialize: res.decode,
    originalName: name,
  };
}

let loaded: WorkloadApiProto | undefined;

/**
 * Returns the `SpiffeWorkloadAPI` service definition (method paths
 * `/SpiffeWorkloadAPI/<Method>`), built once per process from the
 * hand-written codecs of sidecar/workload/workload-codec.ts, which follow
 * sidecar/workload/proto/workload.proto field by field. No .proto file is
 * read at run time. See docs/benchmarks.md ("Memory and start-up budget")
 * for why it does not load the proto with @grpc/proto-loader.
 */
export function loadWorkloadApiProto(): WorkloadApiProto {
  if (loaded) return loaded;
  const c = workloadCodecs;
  const service: WorkloadApiService = {
    FetchX509SVID: method('FetchX509SVID', true, c.empty, c.X509SVIDResponse),
    FetchX509Bundles: method('FetchX509Bundles', true, c.empty, c.X509BundlesResponse),
    FetchJWTSVID: method('FetchJWTSVID', false, c.JWTSVIDRequest, c.JWTSVIDResponse),
    FetchJWTBundles: method('FetchJWTBundles', true, c.empty, c.JWTBundlesResponse),
    ValidateJWTSVID: method('ValidateJWTSVID', false, c.ValidateJWTSVIDRequest, c.ValidateJWTSVIDResponse),
    FetchWITSVID: method('FetchWITSVID', true, c.WITSVIDRequest, c.WITSVIDResponse),
    FetchWITBundles: method('FetchWITBundles', true, c.empty, c.WITBundlesResponse),
  };
  loaded = { service };
  return loaded;
}
