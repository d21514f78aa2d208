/** How long a fetched key set is used before it is refreshed, in milliseconds. */
export interface KeySetLifetimeBounds {
  /** Floor, and the lifetime for `no-store`/`no-cache` (default 1 min). */
  readonly minMs: number;
  /** Ceiling (default 24 h). */
  readonly maxMs: number;
  /** Lifetime when the response has no usable `max-age` (default 10 min). */
  readonly defaultMs: number;
}

const DELTA_SECONDS = /^[0-9]{1,10}$/;

/**
 * The lifetime of a key set from its response's Cache-Control header,
 * clamped to `bounds`. `max-age` (RFC 9111 §5.2.2.1) sets it; `s-maxage`
 * is for shared caches and ignored (§5.2.2.10); `no-store`/`no-cache` mean
 * "do not reuse without checking", so the set lives the minimum, never zero:
 * an issuer must not be able to make every request refetch. A malformed or
 * repeated `max-age` makes the response stale (§4.2.1): the minimum too.
 */
export function keySetLifetimeMs(cacheControl: string | readonly string[] | undefined, bounds: KeySetLifetimeBounds): number {
  if (cacheControl === undefined) return bounds.defaultMs;
  const text = typeof cacheControl === 'string' ? cacheControl : cacheControl.join(',');
  let maxAgeSeconds: number | undefined;
  let stale = false;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') stale = true;
    else if (name === 'max-age') {
      let value = eq < 0 ? '' : part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (maxAgeSeconds !== undefined || !DELTA_SECONDS.test(value)) stale = true;
      else maxAgeSeconds = Number(value);
    }
  }
  if (stale) return bounds.minMs;
  if (maxAgeSeconds === undefined) return bounds.defaultMs;
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, maxAgeSeconds * 1000));
}
