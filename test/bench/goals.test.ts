/**
 * The goal table of bench/goals.ts against hand-made results: each kind of
 * goal says met, not met, or not measured. No benchmark runs here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BenchResults, CaseResult, FamilyResult, ReadinessResult, RotationResult, TransparentSetRun } from '../../bench/bench-results.ts';
import { GOALS as BENCH_GOALS, goalRows, type Goal } from '../../bench/goals.ts';

const MiB = 2 ** 20;

function side(rssPeakMiB: number) {
  return { cpuUsPerRequest: 1, userUsPerRequest: 1, sysUsPerRequest: 0, rssPeakBytes: rssPeakMiB * MiB };
}

function row(id: string, family: string, protocol: CaseResult['protocol'], rps: number, p99Ms: number, peakMiB = 50): CaseResult {
  return {
    id,
    label: id,
    family,
    protocol,
    body: 'small',
    bodyBytes: 64,
    directId: 'direct',
    nginxId: 'nginx',
    throughput: { tool: 'wrk', concurrency: 32, durationS: 1, requests: rps, rps, errors: 0, client: side(peakMiB), server: side(peakMiB), appCpuUsPerRequest: 1, raw: '' },
    latency: { tool: 'h2load', offeredRps: 500, achievedRps: 500, durationS: 1, p50Ms: 1, p90Ms: 1, p99Ms, maxMs: p99Ms, samples: 10, errors: 0, raw: '' },
  } as CaseResult;
}

function results(over: { cases?: CaseResult[]; families?: FamilyResult[]; readiness?: ReadinessResult[]; rotation?: RotationResult | null }): BenchResults {
  return { mode: 'quick', cases: over.cases ?? [], families: over.families ?? [], readiness: over.readiness ?? [], rotation: over.rotation ?? null } as unknown as BenchResults;
}

const family = (idleMiB: number): FamilyResult => ({ id: 'sidecar-h1', label: 'sidecar pair', idleRssBytes: { client: idleMiB * MiB, server: 10 * MiB }, pids: {} });
const ready = (ms: number): ReadinessResult => ({ what: 'spiffe-sidecar compiled (node dist/cli/main.js)', endpoint: '/readyz', runsMs: [ms], medianMs: ms, minMs: ms, maxMs: ms, rssAfterReadyBytes: null });
const rotation = (failed: number): RotationResult => ({
  svidTtlMs: 2000,
  durationS: 6,
  streams: [{ name: 'HTTP keep-alive', rps: 200, sent: 100, ok: 100 - failed, failed, failures: {}, p50Ms: 1, p99Ms: 2 }],
  failed,
  control: [],
  agentRotations: 3,
  sidecarRotations: {},
});

const GOALS: Record<string, Goal> = {
  throughput: { kind: 'throughput', goal: 't', cases: ['sidecar'], against: 'nginx', bodies: ['small'], atLeast: 1.0 },
  p99: { kind: 'p99', goal: 'p', case: 'sidecar', against: 'nginx', bodies: ['small'] },
  cost: { kind: 'cost', goal: 'c', case: 'sidecar-jwt', base: 'sidecar', bodies: ['small'], below: 0.1 },
  idle: { kind: 'rss-idle', goal: 'i', maxMiB: 60 },
  peak: { kind: 'rss-peak', goal: 'k', maxMiB: 80 },
  ready: { kind: 'ready', goal: 'r', maxMs: 300 },
  rotation: { kind: 'rotation', goal: 'o' },
};

test('each kind of goal is met, not met, or not measured, one row per rule', () => {
  const rows: { name: string; goal: Goal; r: BenchResults; met: boolean | undefined }[] = [
    { name: 'throughput at the ratio is met', goal: GOALS['throughput']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 100, 1), row('nginx', 'nginx-h1', 'http/1.1', 100, 1)] }), met: true },
    { name: 'throughput below the ratio is not met', goal: GOALS['throughput']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 99, 1), row('nginx', 'nginx-h1', 'http/1.1', 100, 1)] }), met: false },
    { name: 'throughput without the anchor row is not measured', goal: GOALS['throughput']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 100, 1)] }), met: undefined },
    { name: 'p99 equal to the anchor is met', goal: GOALS['p99']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 1, 4), row('nginx', 'nginx-h1', 'http/1.1', 1, 4)] }), met: true },
    { name: 'p99 above the anchor is not met', goal: GOALS['p99']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 1, 5), row('nginx', 'nginx-h1', 'http/1.1', 1, 4)] }), met: false },
    { name: 'a cost under the bound is met', goal: GOALS['cost']!, r: results({ cases: [row('sidecar-jwt', 'sidecar-h1', 'http/1.1', 95, 1), row('sidecar', 'sidecar-h1', 'http/1.1', 100, 1)] }), met: true },
    { name: 'a cost over the bound is not met', goal: GOALS['cost']!, r: results({ cases: [row('sidecar-jwt', 'sidecar-h1', 'http/1.1', 89, 1), row('sidecar', 'sidecar-h1', 'http/1.1', 100, 1)] }), met: false },
    { name: 'idle RSS at the limit is met', goal: GOALS['idle']!, r: results({ families: [family(60)] }), met: true },
    { name: 'idle RSS over the limit is not met', goal: GOALS['idle']!, r: results({ families: [family(61)] }), met: false },
    { name: 'peak RSS under the limit is met', goal: GOALS['peak']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 1, 1, 80)] }), met: true },
    { name: 'peak RSS over the limit is not met', goal: GOALS['peak']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 1, 1, 81)] }), met: false },
    { name: 'nginx rows do not count towards sidecar RSS', goal: GOALS['peak']!, r: results({ cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 1, 1, 50), row('nginx', 'nginx-h1', 'http/1.1', 1, 1, 500)] }), met: true },
    { name: 'ready within the budget is met', goal: GOALS['ready']!, r: results({ readiness: [ready(300)] }), met: true },
    { name: 'ready over the budget is not met', goal: GOALS['ready']!, r: results({ readiness: [ready(301)] }), met: false },
    { name: 'no compiled start-up row is not measured', goal: GOALS['ready']!, r: results({}), met: undefined },
    { name: 'rotation without failures is met', goal: GOALS['rotation']!, r: results({ rotation: rotation(0) }), met: true },
    { name: 'one failure during rotation is not met', goal: GOALS['rotation']!, r: results({ rotation: rotation(1) }), met: false },
  ];
  for (const r of rows) {
    const got = goalRows(r.r, [r.goal]);
    assert.equal(got.length, 1, r.name);
    assert.equal(got[0]!.met, r.met, r.name);
  }
});

test('peak RSS is judged per protocol, TCP mode apart from HTTP/1.1', () => {
  const r = results({
    cases: [row('sidecar', 'sidecar-h1', 'http/1.1', 1, 1, 70), row('sidecar-tcp', 'sidecar-h1', 'http/1.1', 1, 1, 90), row('sidecar-h2', 'sidecar-h2', 'h2c', 1, 1, 60)],
  });
  const got = goalRows(r, [GOALS['peak']!]);
  assert.deepEqual(
    got.map((g) => [g.row, g.met]),
    [
      ['http/1.1', true],
      ['TCP mode', false],
      ['h2c', true],
    ],
  );
});

test('transparent capture is the median of per-set ratios against the explicit row, at 0.90x, per body size', () => {
  const goal = BENCH_GOALS.find((g) => g.kind === 'paired-throughput' && g.case === 'sidecar-transparent');
  assert.ok(goal, 'bench/goals.ts has no transparent-capture goal');
  type Run = TransparentSetRun;
  const cpu = { client: 50, server: 50 };
  const set = (n: number, transparent: number, explicit: number, body: Run['body'] = 'small'): Run[] => [
    { set: n, body, id: 'sidecar-transparent', first: n % 2 === 0, rps: transparent, errors: 0, cpuUsPerRequest: cpu },
    { set: n, body, id: 'sidecar-netns', first: n % 2 === 1, rps: explicit, errors: 0, cpuUsPerRequest: cpu },
  ];
  const withRuns = (runs: Run[]): BenchResults => ({ ...results({}), transparent: { sets: 3, throughputS: 5, warmupS: 1, runs } }) as BenchResults;
  const rows: { name: string; runs: Run[]; met: (boolean | undefined)[] }[] = [
    { name: 'exactly 0.90x is met', runs: set(1, 90, 100), met: [true] },
    { name: 'below 0.90x is not met', runs: set(1, 89, 100), met: [false] },
    { name: 'the median set decides, not one outlier', runs: [...set(1, 50, 100), ...set(2, 95, 100), ...set(3, 100, 100)], met: [true] },
    { name: 'ratios pair runs of the same set (the ratio of the medians would be 0.50x)', runs: [...set(1, 200, 200), ...set(2, 100, 100), ...set(3, 50, 300)], met: [true] },
    { name: 'a set without the explicit run counts for nothing', runs: [{ set: 1, body: 'small', id: 'sidecar-transparent', first: true, rps: 90, errors: 0, cpuUsPerRequest: cpu }], met: [undefined] },
    { name: 'each body size is its own row', runs: [...set(1, 95, 100), ...set(1, 80, 100, '16k')], met: [true, false] },
  ];
  for (const r of rows) {
    assert.deepEqual(goalRows(withRuns(r.runs), [goal]).map((g) => g.met), r.met, r.name);
  }
});
