/**
 * audit: the audit log, one JSON line per decision the proxies made
 * (allow, deny, dry-run would_allow / would_deny) in a versioned schema
 * (docs/audit-log.md, docs/audit-log.schema.json), with per-caller rate
 * limiting of deny lines and summaries of what was dropped.
 *
 * Pure record building over a request view and a line writer: it opens no
 * files or sockets, reads no process state, and must never write a query
 * string, a token, a key or any request header other than the trace ID.
 */
export { AuditLog } from './audit-log.ts';
export type { AuditWriter } from './audit-log.ts';
export { AuditOptionsError } from './audit-options-error.ts';
export type { AuditedRequest } from './audit-record.ts';
export { DenyLimiter, OVERFLOW_CALLER } from './deny-limiter.ts';
export { traceIdFrom } from './trace-parent.ts';
