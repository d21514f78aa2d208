/**
 * A small open-loop constant-rate HTTP/1.1 load generator, run in its own
 * process (pinned with the other load) by the rotation scenario. Unlike a
 * closed loop it keeps sending on schedule when responses are slow, and it
 * counts every failure: a socket error, a timeout or a status other than 200.
 *
 * Usage: node bench/rate-client.ts '<json RateClientPlan>'; prints one JSON
 * line (RateClientReport) on stdout.
 */
import { Agent, request } from 'node:http';

/** One stream of requests. */
export interface RateTarget {
  readonly name: string;
  readonly url: string;
  /** `keepalive`: a pool of reused connections; `close`: a new TCP connection per request. */
  readonly mode: 'keepalive' | 'close';
  readonly rps: number;
}

/** What to run. */
export interface RateClientPlan {
  readonly targets: readonly RateTarget[];
  readonly durationMs: number;
  /** Per-request deadline; a request still unanswered then counts as failed. */
  readonly timeoutMs: number;
}

/** Per-target outcome. */
export interface RateTargetReport {
  readonly name: string;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Failure kinds: `status <n>`, an error code, or `timeout`. */
  readonly failures: Readonly<Record<string, number>>;
  /** Latency from the scheduled send time, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The JSON line printed at the end. */
export interface RateClientReport {
  readonly targets: readonly RateTargetReport[];
  readonly elapsedMs: number;
}

function runTarget(t: RateTarget, plan: RateClientPlan): Promise<RateTargetReport> {
  const agent = t.mode === 'keepalive' ? new Agent({ keepAlive: true, maxSockets: 32 }) : undefined;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let inFlight = 0;
  const fail = (kind: string): void => {
    failed++;
    failures[kind] = (failures[kind] ?? 0) + 1;
  };
  const start = performance.now();
  const intervalMs = 1000 / t.rps;

  const fire = (scheduledAt: number): void => {
    sent++;
    inFlight++;
    let settled = false;
    const settle = (kind: string | undefined): void => {
      if (settled) return;
      settled = true;
      inFlight--;
      if (kind === undefined) {
        ok++;
        latencies.push(performance.now() - scheduledAt);
      } else fail(kind);
    };
    const req = request(t.url, {
      method: 'GET',
      ...(agent ? { agent } : { agent: false, headers: { connection: 'close' } }),
      timeout: plan.timeoutMs,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => settle(res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      res.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? 'response error'));
    });
    req.on('timeout', () => {
      settle('timeout');
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? 'request error'));
    req.end();
  };

  return new Promise((resolve) => {
    // Send every request whose scheduled time has come; timers are coarse,
    // so each tick catches up rather than drifting.
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.min(Math.floor((Math.min(now - start, plan.durationMs)) / intervalMs), Math.floor(plan.durationMs / intervalMs));
      while (sent < due) fire(start + sent * intervalMs);
      if (now - start >= plan.durationMs) {
        clearInterval(tick);
        const deadline = performance.now() + plan.timeoutMs + 1000;
        const wait = setInterval(() => {
          if (inFlight > 0 && performance.now() < deadline) return;
          clearInterval(wait);
          agent?.destroy();
          latencies.sort((a, b) => a - b);
          const pick = (p: number): number => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? Number.NaN;
          resolve({ name: t.name, sent, ok, failed: failed + inFlight, failures: inFlight > 0 ? { ...failures, unfinished: inFlight } : failures, p50Ms: pick(50), p99Ms: pick(99) });
        }, 20);
      }
    }, 2);
  });
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as RateClientPlan;
  const t0 = performance.now();
  const targets = await Promise.all(plan.targets.map((t) => runTarget(t, plan)));
  const report: RateClientReport = { targets, elapsedMs: Math.round(performance.now() - t0) };
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (import.meta.main) void main();
