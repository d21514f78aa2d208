import { Buffer } from 'node:buffer';

/** A JWS in compact serialization, decoded but not verified. */
export interface DecodedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The exact `header.payload` text the signature covers. */
  readonly signingInput: string;
  /** The signature bytes; empty when the third segment is empty. */
  readonly signature: Buffer;
}

/**
 * The result of {@link decodeJws}. `jwtShaped` tells the router whether the
 * token looked like a JWS at all (three segments and a header that decodes
 * to a JSON object): if not, it may be an opaque token for introspection.
 */
export type JwsDecodeResult =
  | { readonly ok: true; readonly jws: DecodedJws }
  | { readonly ok: false; readonly jwtShaped: boolean; readonly detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes unpadded base64url strictly. Node's decoder skips characters it
 * does not know, so the bytes are encoded again and must give back the
 * segment: that refuses padding, whitespace, '+' and '/', and non-zero
 * spare bits, so every token has one spelling (RFC 7515 §2, §C).
 */
function decodeSegment(seg: string): Buffer | undefined {
  const bytes = Buffer.from(seg, 'base64url');
  return bytes.toString('base64url') === seg ? bytes : undefined;
}

function decodeJsonObject(seg: string): Record<string, unknown> | string {
  if (seg.length === 0) return 'is empty';
  const bytes = decodeSegment(seg);
  if (bytes === undefined) return 'is not unpadded base64url';
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return 'is not UTF-8 JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  return value as Record<string, unknown>;
}

/**
 * Splits and decodes a JWS compact serialization (RFC 7515 §7.1): exactly
 * three base64url segments, header and payload JSON objects. The JSON
 * serialization and JWE (five segments) are not JWS compact tokens here.
 * Never throws; the caller has already bounded the token's length.
 */
export function decodeJws(token: string): JwsDecodeResult {
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d2 < 0 || token.indexOf('.', d2 + 1) >= 0) {
    return { ok: false, jwtShaped: false, detail: 'not three dot-separated segments' };
  }
  const header = decodeJsonObject(token.slice(0, d1));
  if (typeof header === 'string') return { ok: false, jwtShaped: false, detail: `JWS header ${header}` };
  const payload = decodeJsonObject(token.slice(d1 + 1, d2));
  if (typeof payload === 'string') return { ok: false, jwtShaped: true, detail: `JWT payload ${payload}` };
  const signature = decodeSegment(token.slice(d2 + 1));
  if (signature === undefined) return { ok: false, jwtShaped: true, detail: 'JWS signature is not unpadded base64url' };
  return { ok: true, jws: { header, payload, signingInput: token.slice(0, d2), signature } };
}
