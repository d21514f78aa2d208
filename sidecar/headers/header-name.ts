import { CONNECTION_HEADERS } from '../core/index.ts';

/**
 * Header-name comparison without allocating: ASCII case folded, and '_'
 * read as '-'. Targets are lowercase names of [a-z0-9-].
 *
 * Why '_' counts as '-': CGI-style stacks (WSGI, Rack, PHP) turn both
 * `X-Client-Spiffe-Id` and `X_Client_Spiffe_Id` into HTTP_X_CLIENT_SPIFFE_ID,
 * so stripping only the dashed spelling would let a caller smuggle the
 * underscore one through to such apps.
 */
export function nameEqualsAt(s: string, start: number, end: number, target: string): boolean {
  if (end - start !== target.length) return false;
  for (let i = 0; i < target.length; i++) {
    let c = s.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    else if (c === 0x5f) c = 0x2d;
    if (c !== target.charCodeAt(i)) return false;
  }
  return true;
}

/** {@link nameEqualsAt} over the whole of `s`. */
export function nameEquals(s: string, target: string): boolean {
  return nameEqualsAt(s, 0, s.length, target);
}

/** Names whose meaning belongs to HTTP framing, routing or authentication: never usable for identity. */
const RESERVED = new Set([
  ...CONNECTION_HEADERS,
  'host',
  'content-length',
  'content-type',
  'authorization',
  'proxy-authorization',
  'cookie',
  'forwarded',
  'x-forwarded-for',
]);

/** Why `name` cannot be an identity header name, or undefined when it can. */
export function headerNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `expected a string, got ${typeof name}`;
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name) || name.length > 64) {
    return 'use 1-64 lowercase letters, digits and single dashes (e.g. "x-client-spiffe-id")';
  }
  if (RESERVED.has(name)) return 'is a standard HTTP header with another meaning';
  return undefined;
}
