import { HeaderNameSet } from './header-name-set.ts';
import { trailersToForward } from './hop-by-hop.ts';

/**
 * Fields never forwarded from a request's trailer section, whatever their
 * value. RFC 9110 §6.5.1: a field whose meaning the recipient needs before
 * the content (framing, routing, authentication, request modifiers,
 * content metadata) has no place there, and an app that merges trailers
 * into its headers (which §6.5.1 forbids, yet some frameworks do) must not
 * get a credential or an identity header the route never saw: the
 * strip-then-set of identity headers and the outbound token modes work on
 * the request head only.
 */
const NEVER_IN_REQUEST_TRAILERS = new HeaderNameSet([
  // framing and routing
  'content-length',
  'transfer-encoding',
  'host',
  'trailer',
  'te',
  // authentication and credentials
  'authorization',
  'proxy-authorization',
  'cookie',
  // request modifiers
  'expect',
  'max-forwards',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'cache-control',
  'pragma',
  // content metadata
  'content-type',
  'content-encoding',
  'content-range',
  // hop and identity fields a proxy or the sidecar sets (the defaults of sidecar/headers)
  'forwarded',
  'via',
  'x-client-spiffe-id',
  'x-forwarded-client-cert',
]);

/** Name prefixes of proxy-set fields (x-forwarded-for, -host, -proto, ...) and of the end-user identity headers. */
const NEVER_PREFIXES: readonly string[] = ['x-forwarded-', 'x-auth-'];

/**
 * The trailer fields of a downstream request that go upstream: pseudo and
 * hop-by-hop fields dropped (as for response trailers), then every field
 * of {@link NEVER_IN_REQUEST_TRAILERS}, the `x-forwarded-*` and `x-auth-*`
 * families, and the listener's stripped request headers. Null when
 * nothing is left.
 */
export function requestTrailersToForward(raw: readonly string[] | null | undefined, dropped: HeaderNameSet | null): string[] | null {
  const fields = trailersToForward(raw);
  if (fields === null) return null;
  let out: string[] | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    if (NEVER_IN_REQUEST_TRAILERS.has(name) || hasNeverPrefix(name) || (dropped !== null && dropped.has(name))) continue;
    (out ??= []).push(name, fields[i + 1]!);
  }
  return out;
}

function hasNeverPrefix(name: string): boolean {
  for (const p of NEVER_PREFIXES) {
    if (name.length > p.length && name.slice(0, p.length).toLowerCase() === p) return true;
  }
  return false;
}

/**
 * A flat field list (name, value, ...) as the object node:http2 takes for
 * trailers, repeated names as arrays; an empty object for null.
 */
export function fieldObject(flat: readonly string[] | null): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  if (flat === null) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
