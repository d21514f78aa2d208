// The SpiffeWorkloadAPI messages in object form (snake_case field names, as
// in sidecar/workload/proto/workload.proto). workload-codec.ts encodes and
// decodes them; decoded messages have every field.

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

/** `google.protobuf.Struct` in object form: field name → Value. */
export interface StructMessage {
  fields: Record<string, ValueMessage>;
}

/**
 * `google.protobuf.Value` in object form: one member set, `kind` naming it
 * (decoded messages always have `kind`; to encode, it may be left out).
 */
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

/** `WITSVIDRequest`. */
export interface WitSvidRequestMessage {
  spiffe_id: string;
}

/** Decoded `WITSVID`. */
export interface WitSvidMessage {
  spiffe_id: string;
  wit_svid: string;
  wit_svid_key: string;
  hint: string;
}

/** Decoded `WITSVIDResponse`. */
export interface WitSvidResponseMessage {
  svids: WitSvidMessage[];
}

/** Decoded `WITBundlesResponse`. */
export interface WitBundlesResponseMessage {
  bundles: Record<string, string>;
}
