import { describeError, silentLogger, type Clock, type Logger } from '../core/index.ts';
import { AuditOptionsError } from './audit-options-error.ts';
import { decisionLine, decisionOf, rfc3339, suppressedLine, type AuditDirection, type AuditDryRun, type AuditedRequest, type AuditLine } from './audit-record.ts';
import { DenyLimiter } from './deny-limiter.ts';
import { traceIdFrom } from './trace-parent.ts';

/** Where audit lines go: each call gets one complete line ending in "\n" (a Writable fits). */
export interface AuditWriter {
  write(line: string): unknown;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /**
   * The audit stream: bare JSON lines. Absent: each line goes through
   * `logger` at info as the `audit` field of a line with message `audit`
   * (then log.level above info drops it).
   */
  readonly out?: AuditWriter | undefined;
  readonly clock: Clock;
  /** Deny lines a caller may produce at once (1-100000). */
  readonly denyBurst: number;
  /** Deny lines a caller may produce per minute after the burst (1-6000000). */
  readonly denyPerMinute: number;
  /** Callers the deny limiter tracks at most (default 1024). */
  readonly maxCallers?: number | undefined;
  /** Told once when the stream fails; carries the lines when there is no `out`. */
  readonly logger?: Logger | undefined;
}

/** Default bound of the per-caller deny buckets. */
export const DEFAULT_AUDIT_MAX_CALLERS = 1024;

/**
 * The audit log: one JSON line per decision the proxies made (allow, deny,
 * and each dry-run rule's would_allow / would_deny), in the versioned
 * schema of docs/audit-log.schema.json. Deny lines are rate limited per
 * caller (a refused caller must not be able to flood the log); what was
 * dropped is reported in a `denies_suppressed` line when that caller's
 * next deny is written, or at {@link close}.
 *
 * Lines never contain a query string, a token or a key: the path is cut
 * at `?`, and the only request header read is `traceparent`.
 */
/** What a connection decision says, as the policy decided it (structurally the policy's Decision). */
export type ConnectionDecision =
  | { readonly allow: true; readonly rule: string; readonly dryRun: readonly AuditDryRun[] }
  | { readonly allow: false; readonly reason: string; readonly rule: string | undefined; readonly dryRun: readonly AuditDryRun[] };

const NO_HEADERS: readonly string[] = Object.freeze([]);

export class AuditLog {
  readonly #out: AuditWriter | undefined;
  readonly #clock: Clock;
  readonly #limiter: DenyLimiter;
  readonly #logger: Logger;
  #writeFailed = false;

  constructor(o: AuditLogOptions) {
    const problems: string[] = [];
    if (!Number.isInteger(o.denyBurst) || o.denyBurst < 1 || o.denyBurst > 100_000) problems.push(`denyBurst ${String(o.denyBurst)}: must be an integer 1-100000`);
    if (!Number.isInteger(o.denyPerMinute) || o.denyPerMinute < 1 || o.denyPerMinute > 6_000_000) {
      problems.push(`denyPerMinute ${String(o.denyPerMinute)}: must be an integer 1-6000000`);
    }
    const maxCallers = o.maxCallers ?? DEFAULT_AUDIT_MAX_CALLERS;
    if (!Number.isInteger(maxCallers) || maxCallers < 1 || maxCallers > 1_000_000) problems.push(`maxCallers ${String(maxCallers)}: must be an integer 1-1000000`);
    if (problems.length > 0) throw new AuditOptionsError(problems.join('; '));
    this.#out = o.out;
    this.#clock = o.clock;
    this.#logger = o.logger ?? silentLogger;
    this.#limiter = new DenyLimiter(o.denyBurst, o.denyPerMinute, maxCallers);
  }

  /** Writes the lines of one finished request (none when no decision was made, or a deny is rate limited). */
  requestDone(req: AuditedRequest, direction: AuditDirection, seconds: number): void {
    const decision = decisionOf(req);
    if (decision === null) return;
    const nowMs = this.#clock.now();
    const time = rfc3339(nowMs);
    if (decision === 'deny') {
      const caller = req.conn.peerId;
      const suppressed = this.#limiter.take(caller, nowMs);
      // Dropped whole, dry-run lines included: they describe the same refused request.
      if (suppressed < 0) return;
      if (suppressed > 0) this.#write(suppressedLine(time, caller, suppressed, rfc3339(this.#limiter.suppressedSinceMs)));
    }
    const traceId = req.traceId !== '' ? req.traceId : traceIdFrom(req.headers);
    this.#write(decisionLine(req, direction, decision, req.rule, req.reason, time, traceId, seconds));
    const dry = req.dryRun;
    if (dry === undefined) return;
    for (const r of dry) this.#write(decisionLine(req, direction, r.outcome, r.rule, 'dry_run', time, traceId, seconds));
  }

  /**
   * Writes the lines of one connection decision (a TCP tunnel or an opaque
   * port): method `TCP`, no path, status 0, subject and client absent.
   * Denies share the per-caller rate limit with requests.
   */
  connectionDone(peerId: string, peerAddress: string | undefined, dst: string, d: ConnectionDecision): void {
    this.requestDone(
      {
        conn: { peerId, peerAddress },
        method: 'TCP',
        path: '',
        target: '',
        decision: d.allow ? 'allow' : 'deny',
        rule: d.rule ?? '',
        reason: d.allow ? '' : d.reason,
        status: 0,
        subject: '',
        clientId: '',
        dst,
        serverId: '',
        traceId: '',
        headers: NO_HEADERS,
        dryRun: d.dryRun.length === 0 ? undefined : d.dryRun,
        bodyBytes: 0,
        responseBytes: 0,
      },
      'inbound',
      0,
    );
  }

  /** Writes a summary for every caller with denies still unreported (at shutdown). */
  close(): void {
    const time = rfc3339(this.#clock.now());
    for (const s of this.#limiter.flush()) this.#write(suppressedLine(time, s.caller, s.count, rfc3339(s.sinceMs)));
  }

  #write(line: AuditLine): void {
    const out = this.#out;
    if (out === undefined) {
      this.#logger.info({ audit: line }, 'audit');
      return;
    }
    try {
      out.write(JSON.stringify(line) + '\n');
    } catch (err) {
      // The request is already answered; a broken audit stream must not take the proxy down.
      if (!this.#writeFailed) this.#logger.error({ err: describeError(err) }, 'audit log write failed');
      this.#writeFailed = true;
    }
  }
}
