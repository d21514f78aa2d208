import { Buffer } from 'node:buffer';
import { JwtSvidError } from './jwt-svid-error.ts';

/** Tokens longer than this are refused before any decoding (far above any real JWT-SVID). */
export const MAX_JWT_SVID_LENGTH = 64 * 1024;

/** The three parts of a JWS in compact serialization, decoded but not verified. */
export interface CompactJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The exact `header.payload` text the signature covers. */
  readonly signingInput: string;
  /** The raw signature bytes; empty when the third segment is empty. */
  readonly signature: Buffer;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(why: string, cause?: unknown): JwtSvidError {
  return new JwtSvidError('jwtsvid.malformed', `jwtsvid: malformed token: ${why}`, cause === undefined ? {} : { cause });
}

/**
 * Decodes unpadded base64url strictly. Node's decoder skips characters it
 * does not know, so the bytes are re-encoded and must give back the segment:
 * that refuses padding, whitespace, the '+/' alphabet and non-zero spare
 * bits, so one token has exactly one spelling.
 */
function decodeSegment(seg: string, name: string): Buffer {
  const bytes = Buffer.from(seg, 'base64url');
  if (bytes.toString('base64url') !== seg) throw malformed(`${name} is not canonical unpadded base64url`);
  return bytes;
}

function decodeJsonObject(seg: string, name: string): Record<string, unknown> {
  const bytes = decodeSegment(seg, name);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (cause) {
    throw malformed(`${name} is not UTF-8 JSON`, cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${name} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * Splits and decodes a JWS compact serialization (RFC 7515 §7.1). The JSON
 * serialization, and anything else that is not exactly three dot-separated
 * base64url segments, is refused: JWT-SVID.md §3 allows compact only.
 */
export function decodeCompactJws(token: string): CompactJws {
  if (typeof token !== 'string') throw malformed('not a string');
  if (token.length > MAX_JWT_SVID_LENGTH) throw malformed(`longer than ${MAX_JWT_SVID_LENGTH} characters`);
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed(`expected 3 dot-separated segments, got ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonObject(h, 'header');
  const payload = decodeJsonObject(p, 'payload');
  const signature = decodeSegment(s, 'signature');
  return { header, payload, signingInput: `${h}.${p}`, signature };
}
