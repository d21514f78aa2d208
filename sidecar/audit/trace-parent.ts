/**
 * The trace ID of a W3C `traceparent` request header (Trace Context, W3C
 * Recommendation, §3.2), or '' when the request carries none, more than
 * one, or a malformed one. Only the header's grammar is checked; nothing
 * about the trace is trusted.
 *
 * `headers` is a flat name/value list (Node's raw headers).
 */
export function traceIdFrom(headers: readonly string[]): string {
  let value: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== 11 || name.toLowerCase() !== 'traceparent') continue;
    // §3.2: a request with several traceparent headers has no valid one.
    if (value !== undefined) return '';
    value = headers[i + 1]!;
  }
  return value === undefined ? '' : traceIdOf(value.trim());
}

/** version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex (§3.2.2). */
function traceIdOf(v: string): string {
  if (v.length < 55 || v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return '';
  const version = v.slice(0, 2);
  // §3.2.2.1: version ff is invalid; version 00 is exactly 55 characters,
  // later versions may append fields after another dash (§3.2.4).
  if (!isLowerHex(version) || version === 'ff') return '';
  if (version === '00' ? v.length !== 55 : v.length > 55 && v[55] !== '-') return '';
  const traceId = v.slice(3, 35);
  const parentId = v.slice(36, 52);
  // §3.2.2.3 and §3.2.2.4: all-zero IDs are invalid.
  if (!isLowerHex(traceId) || isZeros(traceId) || !isLowerHex(parentId) || isZeros(parentId) || !isLowerHex(v.slice(53, 55))) return '';
  return traceId;
}

function isLowerHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function isZeros(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x30) return false;
  return true;
}
