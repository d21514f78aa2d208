/**
 * The benchmark's goals as data, in one place: the data-plane goals of
 * issue 10 ("Data plane v2": throughput and p99 against the nginx and
 * ghostunnel pairs measured in the same run, RSS per sidecar, start-up,
 * rotation), the token-path costs, and transparent capture against the
 * explicit outbound in the same pods (issue 11). report.ts renders each
 * row as met / not met; nothing enforces them (docs/benchmarks.md).
 */
import type { BenchResults, CaseResult } from './bench-results.ts';

const MiB = 2 ** 20;

type Body = 'small' | '16k';

/** One goal; `kind` says how it is evaluated against a run's results. */
export type Goal =
  /** Throughput of each `cases` row ≥ `atLeast` × the `against` row of the same body size. */
  | { readonly kind: 'throughput'; readonly goal: string; readonly cases: readonly string[]; readonly against: string; readonly bodies: readonly Body[]; readonly atLeast: number }
  /** p99 at the fixed offered rate of `case` ≤ the `against` row's. */
  | { readonly kind: 'p99'; readonly goal: string; readonly case: string; readonly against: string; readonly bodies: readonly Body[] }
  /** Throughput lost by `case` against the plain `base` row, below `below` (a fraction). */
  | { readonly kind: 'cost'; readonly goal: string; readonly case: string; readonly base: string; readonly bodies: readonly Body[]; readonly below: number }
  /** Idle RSS of every sidecar process ≤ `maxMiB`. */
  | { readonly kind: 'rss-idle'; readonly goal: string; readonly maxMiB: number }
  /** Peak RSS under load of every sidecar process ≤ `maxMiB`, one row per protocol. */
  | { readonly kind: 'rss-peak'; readonly goal: string; readonly maxMiB: number }
  /** Median spawn → /readyz 200 of the compiled sidecar ≤ `maxMs`. */
  | { readonly kind: 'ready'; readonly goal: string; readonly maxMs: number }
  /** No request failed during SVID rotation, on every stream. */
  | { readonly kind: 'rotation'; readonly goal: string }
  /**
   * The median over interleaved sets (bench/bench-transparent.ts) of `case`'s
   * throughput ÷ `against`'s in the same set ≥ `atLeast`: each ratio pairs
   * two runs made back to back, so a neighbour's burst that spans a set
   * cancels out, and the median drops a set where it hit one row only.
   */
  | { readonly kind: 'paired-throughput'; readonly goal: string; readonly case: string; readonly against: string; readonly bodies: readonly Body[]; readonly atLeast: number };

/** The goals, in report order. */
export const GOALS: readonly Goal[] = [
  { kind: 'throughput', goal: 'HTTP/1.1 pair ≥ 1.0× the nginx mTLS pair', cases: ['sidecar', 'sidecar-jwt'], against: 'nginx', bodies: ['small', '16k'], atLeast: 1.0 },
  { kind: 'p99', goal: 'HTTP/1.1 p99 at the fixed rate ≤ the nginx pair', case: 'sidecar', against: 'nginx', bodies: ['small', '16k'] },
  { kind: 'throughput', goal: 'h2c pair ≥ 1.0× the nginx HTTP/2 pair', cases: ['sidecar-h2'], against: 'nginx-h2', bodies: ['small', '16k'], atLeast: 1.0 },
  { kind: 'throughput', goal: 'gRPC pair ≥ 1.0× the nginx HTTP/2 pair', cases: ['sidecar-grpc'], against: 'nginx-grpc', bodies: ['small'], atLeast: 1.0 },
  { kind: 'throughput', goal: 'TCP mode ≥ 1.0× the ghostunnel pair', cases: ['sidecar-tcp'], against: 'ghostunnel', bodies: ['small', '16k'], atLeast: 1.0 },
  { kind: 'rss-idle', goal: 'RSS per sidecar idle ≤ 60 MiB', maxMiB: 60 },
  { kind: 'rss-peak', goal: 'RSS per sidecar under load ≤ 80 MiB', maxMiB: 80 },
  { kind: 'ready', goal: 'ready (spawn → /readyz 200, compiled) ≤ 300 ms', maxMs: 300 },
  { kind: 'rotation', goal: '0 failed requests through SVID rotation (both streams)' },
  { kind: 'cost', goal: 'a cached end-user JWT costs < 10% of the HTTP/1.1 pair', case: 'sidecar-jwt', base: 'sidecar', bodies: ['small', '16k'], below: 0.1 },
  { kind: 'cost', goal: 'RFC 8693 exchange, warm cache, costs < 10% of the HTTP/1.1 pair', case: 'sidecar-exchange', base: 'sidecar', bodies: ['small', '16k'], below: 0.1 },
  {
    kind: 'paired-throughput',
    goal: 'transparent capture (iptables, netns pods) ≥ 0.90× the explicit outbound in the same pods',
    case: 'sidecar-transparent',
    against: 'sidecar-netns',
    bodies: ['small', '16k'],
    atLeast: 0.9,
  },
];

/** One evaluated row: `met` is undefined when the run lacks the figures (rows left out with --only). */
export interface GoalRow {
  readonly goal: string;
  readonly row: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

function find(r: BenchResults, id: string, body: string): CaseResult | undefined {
  return r.cases.find((c) => c.id === id && c.body === body);
}

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const mib = (b: number): string => (b / MiB).toFixed(1);
const bodyName = (c: CaseResult): string => (c.protocol === 'grpc' ? `${c.bodyBytes} B msg` : c.body === 'small' ? `${c.bodyBytes} B` : '16 KiB');

/** Evaluates one goal; a goal with no figures in this run gives one row with `met` undefined. */
function evaluate(g: Goal, r: BenchResults): GoalRow[] {
  const out: GoalRow[] = [];
  const missing = (row: string): GoalRow => ({ goal: g.goal, row, measured: 'not measured in this run', met: undefined });
  switch (g.kind) {
    case 'throughput':
      for (const id of g.cases) {
        for (const body of g.bodies) {
          const s = find(r, id, body);
          const n = find(r, g.against, body);
          if (s === undefined || n === undefined) continue;
          const ratio = s.throughput.rps / n.throughput.rps;
          out.push({ goal: g.goal, row: `${s.label}, ${bodyName(s)}`, measured: `${ratio.toFixed(2)}× (${int(s.throughput.rps)} vs ${int(n.throughput.rps)} req/s)`, met: ratio >= g.atLeast });
        }
      }
      return out.length > 0 ? out : [missing(g.cases.join(', '))];
    case 'p99':
      for (const body of g.bodies) {
        const s = find(r, g.case, body);
        const n = find(r, g.against, body);
        if (s === undefined || n === undefined) continue;
        out.push({ goal: g.goal, row: `${s.label}, ${bodyName(s)}`, measured: `${s.latency.p99Ms.toFixed(2)} vs ${n.latency.p99Ms.toFixed(2)} ms (at ${s.latency.offeredRps} req/s)`, met: s.latency.p99Ms <= n.latency.p99Ms });
      }
      return out.length > 0 ? out : [missing(g.case)];
    case 'cost':
      for (const body of g.bodies) {
        const c = find(r, g.case, body);
        const base = find(r, g.base, body);
        if (c === undefined || base === undefined) continue;
        const cost = 1 - c.throughput.rps / base.throughput.rps;
        out.push({ goal: g.goal, row: `${c.label}, ${bodyName(c)}`, measured: `${(cost * 100).toFixed(1)}% (${int(c.throughput.rps)} vs ${int(base.throughput.rps)} req/s)`, met: cost < g.below });
      }
      return out.length > 0 ? out : [missing(g.case)];
    case 'rss-idle': {
      for (const f of r.families.filter((x) => x.id.startsWith('sidecar'))) {
        const sides = [f.idleRssBytes.client, f.idleRssBytes.server].filter((x): x is number => x !== undefined);
        if (sides.length === 0) continue;
        const max = Math.max(...sides);
        out.push({ goal: g.goal, row: f.label, measured: `client ${mib(f.idleRssBytes.client ?? 0)} / server ${mib(f.idleRssBytes.server ?? 0)} MiB`, met: max <= g.maxMiB * MiB });
      }
      return out.length > 0 ? out : [missing('sidecar pairs')];
    }
    case 'rss-peak': {
      const byProtocol = new Map<string, CaseResult[]>();
      for (const c of r.cases.filter((x) => x.family.startsWith('sidecar'))) {
        const key = c.id === 'sidecar-tcp' ? 'TCP mode' : c.protocol;
        byProtocol.set(key, [...(byProtocol.get(key) ?? []), c]);
      }
      for (const [protocol, cases] of byProtocol) {
        const peaks = cases.flatMap((c) => [c.throughput.client?.rssPeakBytes ?? 0, c.throughput.server?.rssPeakBytes ?? 0]);
        const max = Math.max(...peaks);
        out.push({ goal: g.goal, row: protocol, measured: `max ${mib(max)} MiB over ${cases.length} row(s)`, met: max <= g.maxMiB * MiB });
      }
      return out.length > 0 ? out : [missing('sidecar rows')];
    }
    case 'ready': {
      const compiled = r.readiness.find((x) => x.what.startsWith('spiffe-sidecar compiled'));
      if (compiled === undefined) return [missing('compiled sidecar (no dist/: run `make build`)')];
      return [{ goal: g.goal, row: 'compiled (dist/), server-side config', measured: `median ${int(compiled.medianMs)} ms (${int(compiled.minMs)}–${int(compiled.maxMs)})`, met: compiled.medianMs <= g.maxMs }];
    }
    case 'paired-throughput': {
      const runs = r.transparent?.runs ?? [];
      for (const body of g.bodies) {
        const ratios: number[] = [];
        for (const x of runs.filter((y) => y.id === g.case && y.body === body)) {
          const base = runs.find((y) => y.id === g.against && y.body === body && y.set === x.set);
          if (base !== undefined && base.rps > 0) ratios.push(x.rps / base.rps);
        }
        if (ratios.length === 0) continue;
        const sorted = [...ratios].sort((a, b) => a - b);
        const mid = Math.floor(sorted.length / 2);
        const med = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
        const c = find(r, g.case, body);
        out.push({
          goal: g.goal,
          row: c !== undefined ? `${c.label}, ${bodyName(c)}` : `${g.case}, ${body}`,
          measured: `median ${med.toFixed(2)}× over ${ratios.length} set(s) (${ratios.map((x) => x.toFixed(2)).join(', ')})`,
          met: med >= g.atLeast,
        });
      }
      return out.length > 0 ? out : [missing(g.case)];
    }
    case 'rotation': {
      const rot = r.rotation;
      if (rot === null) return [missing('rotation scenario')];
      return rot.streams.map((s) => ({ goal: g.goal, row: s.name, measured: `${s.failed} of ${int(s.sent)} failed`, met: s.failed === 0 }));
    }
  }
}

/** Every goal evaluated against `r`, one row per measured case, in {@link GOALS} order. */
export function goalRows(r: BenchResults, goals: readonly Goal[] = GOALS): GoalRow[] {
  return goals.flatMap((g) => evaluate(g, r));
}
