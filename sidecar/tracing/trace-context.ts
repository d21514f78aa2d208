/**
 * W3C Trace Context (Recommendation, Level 1): the `traceparent` and
 * `tracestate` request headers. Parsing is strict, so a malformed or
 * hostile value starts a new trace instead of being carried on.
 */

/** A parsed `traceparent`: the caller's trace and the span that sent the request. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span. */
  readonly parentId: string;
  /** The caller recorded its span (trace-flags bit 0, §3.2.2.5). */
  readonly sampled: boolean;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);
/** Length of a version-00 value: 2 + 1 + 32 + 1 + 16 + 1 + 2. */
const V00_LENGTH = 55;

/**
 * Parses a `traceparent` value (§3.2); null when it is invalid. Version 00
 * must be exactly 55 characters; a later version may carry more fields
 * after a '-', which are ignored (§3.2.4), and version ff is invalid.
 * Hex must be lowercase (§3.2.2), and an all-zero trace-id or parent-id is
 * invalid (§3.2.2.3, §3.2.2.4).
 */
export function parseTraceparent(value: string): TraceParent | null {
  if (value.length < V00_LENGTH) return null;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return null;
  if (version === '00' ? value.length !== V00_LENGTH : value.length > V00_LENGTH && value[V00_LENGTH] !== '-') return null;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return null;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return null;
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_PARENT_ID) return null;
  return { traceId, parentId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** Formats a version-00 `traceparent` (§3.2): the version this sidecar speaks, whatever it received. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** Most list-members a `tracestate` may have (§3.3.1.1). */
export const MAX_TRACESTATE_MEMBERS = 32;
/** Longest `tracestate` this sidecar passes on; vendors must propagate at least 512 characters (§3.3.1.5). */
export const MAX_TRACESTATE_LENGTH = 512;
/** A simple key or a multi-tenant `tenant@system` key (§3.3.1.3.1). */
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
/** Printable ASCII except ',' and '=', not ending in a space (§3.3.1.3.2). */
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Checks a `tracestate` value (the comma-joined header lines, §3.3.1) and
 * returns it with optional whitespace around members removed; null when
 * any member is malformed, a key repeats, there are more than 32 members
 * or it is longer than {@link MAX_TRACESTATE_LENGTH}: the whole header is
 * then dropped (§3.3.1.1 lets a vendor discard a tracestate it cannot parse).
 */
export function checkTracestate(value: string): string | null {
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member === '') continue; // empty list-members are allowed (§3.3.1.1)
    const eq = member.indexOf('=');
    if (eq <= 0) return null;
    const key = member.slice(0, eq);
    if (!KEY.test(key) || !VALUE.test(member.slice(eq + 1)) || keys.has(key)) return null;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return null;
  const out = members.join(',');
  return out.length > MAX_TRACESTATE_LENGTH ? null : out;
}
