import { describeError } from '../core/index.ts';
import { quoteUntrusted, type SpiffeId } from '../spiffe/index.ts';
import { formatXfcc } from './format-xfcc.ts';
import { HeaderError } from './header-error.ts';

/**
 * The identity header values for one authenticated peer, computed once per
 * TLS connection (they depend only on the peer's certificate and our own ID)
 * and reused for every request on it.
 */
export interface CallerIdentity {
  /** Value of the SPIFFE ID header: the peer's ID. */
  readonly peerId: string;
  /** Value of the XFCC header: `By=<local ID>;Hash=<sha256 of peer leaf DER>;URI=<peer ID>`. */
  readonly xfcc: string;
}

/** The authenticated peer as the TLS layer sees it. */
export interface PeerCertificate {
  /** The SPIFFE ID from the peer's verified X509-SVID. */
  readonly id: SpiffeId;
  /** Hex SHA-256 of the peer's leaf certificate DER (Envoy's XFCC `Hash`), 64 hex digits. */
  readonly leafSha256Hex: string;
}

/** Result of {@link callerIdentity}: never thrown, because it runs when a connection is accepted. */
export type CallerIdentityResult =
  | { readonly ok: true; readonly identity: CallerIdentity }
  | { readonly ok: false; readonly error: HeaderError };

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Builds the caller identity values for `peer` as seen by the workload whose
 * ID is `local`. Fails with 'headers.invalid_value' when the hash is not 64
 * hex digits or an ID contains anything but printable ASCII. Valid SPIFFE IDs
 * never do; the check is defence in depth, because a CR or LF here would let
 * a certificate write its own headers to the app.
 */
export function callerIdentity(peer: PeerCertificate, local: SpiffeId): CallerIdentityResult {
  const peerId = String(peer.id);
  const localId = String(local);
  const hash = peer.leafSha256Hex;
  if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
    return failure(`peer leaf hash must be 64 hex digits (SHA-256 of the DER certificate), got ${describe(hash)}`);
  }
  for (const [what, v] of [
    ['peer ID', peerId],
    ['local ID', localId],
  ] as const) {
    if (!isVisibleAscii(v)) return failure(`${what} ${quoteUntrusted(v)} contains a character not allowed in a header`);
  }
  try {
    const xfcc = formatXfcc([
      [
        { key: 'By', value: localId },
        { key: 'Hash', value: hash.toLowerCase() },
        { key: 'URI', value: peerId },
      ],
    ]);
    return { ok: true, identity: Object.freeze({ peerId, xfcc }) };
  } catch (err) {
    return failure(describeError(err), err);
  }
}

/** True when `s` is non-empty and only printable ASCII without spaces (what a SPIFFE ID can be). */
function isVisibleAscii(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? quoteUntrusted(v) : typeof v;
}

function failure(message: string, cause?: unknown): CallerIdentityResult {
  const m = message.startsWith('headers: ') ? message : `headers: ${message}`;
  return { ok: false, error: new HeaderError('headers.invalid_value', m, cause === undefined ? undefined : { cause }) };
}
