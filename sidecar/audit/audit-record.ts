/** The version written in every line's `schema_version` (docs/audit-log.md says when it changes). */
export const AUDIT_SCHEMA_VERSION = 1;

/** Which proxy made the decision. */
export type AuditDirection = 'inbound' | 'outbound';

/** The decisions a line can record. */
export type AuditDecision = 'allow' | 'deny' | 'would_allow' | 'would_deny';

/** A dry-run rule's outcome on the request. */
export interface AuditDryRun {
  readonly rule: string;
  readonly outcome: 'would_allow' | 'would_deny';
}

/**
 * The finished request as the audit log reads it. The proxy's per-request
 * record implements it, so auditing copies fields and allocates no record
 * of its own beyond the line.
 */
export interface AuditedRequest {
  readonly conn: { readonly peerId: string; readonly peerAddress?: string | undefined };
  readonly method: string;
  /** The request-target as received. */
  readonly path: string;
  /** The request-target sent upstream (normalised inbound once allowed). */
  readonly target: string;
  readonly decision: string;
  readonly rule: string;
  readonly reason: string;
  readonly status: number;
  readonly subject: string;
  readonly clientId: string;
  /** Where the request went; '' when the sidecar answered it itself. */
  readonly dst: string;
  /** The upstream's verified SPIFFE ID (outbound). */
  readonly serverId: string;
  /** W3C trace ID set by tracing; '' when tracing did not set one. */
  readonly traceId: string;
  /** The request's headers (raw name/value list), read for `traceparent` only. */
  readonly headers: readonly string[];
  /** Dry-run rules that matched (inbound). */
  readonly dryRun?: readonly AuditDryRun[] | undefined;
  readonly bodyBytes: number;
  readonly responseBytes: number;
}

/**
 * The decision a finished request stands for, or null when none was made
 * (the client went away before the request was routed). Inbound, the
 * enforcement stage's `allow`/`deny`; otherwise forwarded = allowed and
 * answered by the sidecar = denied.
 */
export function decisionOf(req: AuditedRequest): 'allow' | 'deny' | null {
  const d = req.decision;
  if (d === 'allow' || d === 'deny') return d;
  if (req.dst !== '') return 'allow';
  return req.status >= 400 ? 'deny' : null;
}

/**
 * The request-target without its query: the query is where URLs carry
 * tokens and keys, so no audit line ever holds one.
 */
export function pathWithoutQuery(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** RFC 3339 UTC with milliseconds (RFC 3339 §5.6), from ms since the epoch. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** One audit line before serialisation: flat, strings and numbers only. */
export type AuditLine = Record<string, string | number>;

/**
 * One decision line for `req`. `decision`,
 * `rule` and `reason` are passed in because a dry-run line reports the
 * dry-run rule's outcome on the same request. Subject and client appear
 * only when there is an end user.
 */
export function decisionLine(
  req: AuditedRequest,
  direction: AuditDirection,
  decision: AuditDecision,
  rule: string,
  reason: string,
  time: string,
  traceId: string,
  seconds: number,
): AuditLine {
  const line: AuditLine = {
    schema_version: AUDIT_SCHEMA_VERSION,
    kind: 'decision',
    time,
    trace_id: traceId,
    direction,
    caller_id: req.conn.peerId,
    server_id: req.serverId,
  };
  if (req.subject !== '') line['subject'] = req.subject;
  if (req.clientId !== '') line['client_id'] = req.clientId;
  line['source_address'] = req.conn.peerAddress ?? '';
  line['method'] = req.method;
  line['path'] = pathWithoutQuery(req.target);
  line['decision'] = decision;
  line['rule'] = rule;
  line['reason'] = reason;
  line['status'] = req.status;
  line['duration_ms'] = Math.round(seconds * 1e6) / 1e3;
  line['bytes_in'] = req.bodyBytes;
  line['bytes_out'] = req.responseBytes;
  return line;
}

/**
 * The summary line for denies the rate limit kept out of the log. The
 * caller key tells the direction: a SPIFFE ID inbound, '' for the local
 * app outbound, `*` for callers beyond the limiter's bound.
 */
export function suppressedLine(time: string, callerId: string, count: number, since: string): AuditLine {
  return {
    schema_version: AUDIT_SCHEMA_VERSION,
    kind: 'denies_suppressed',
    time,
    caller_id: callerId,
    count,
    since,
    message: `${count} denies suppressed for caller ${callerId === '' ? '(local app)' : callerId}`,
  };
}
