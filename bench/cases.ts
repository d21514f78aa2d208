/**
 * The scenario rows of the table and how one row is measured: warm-up,
 * throughput at fixed concurrency (wrk for HTTP/1.1, h2load for HTTP/2 and
 * gRPC) with CPU and RSS of every proxy process, then latency at the fixed
 * offered rate (h2load --rps, `--h1` for HTTP/1.1).
 */
import { join } from 'node:path';
import type { BodySize, CaseResult, Protocol, SideFigures } from './bench-results.ts';
import { BODY_BYTES, GRPC_PATH, type App, type BenchContext } from './bench-context.ts';
import type { Entries, FamilyId, NETNS_FAMILY_ID, RunningFamily } from './families.ts';
import { benchToken } from './bench-token.ts';
import { EXCHANGE_HOST } from './bench-exchange.ts';
import { runH2load, runLatency, runWrk, type LoadResult } from './load-tools.ts';
import { RssSampler, groupCpuMicros, type ProcessGroup } from './proc-stats.ts';

/** One row of the table (at each of its body sizes). */
export interface CaseSpec {
  readonly id: string;
  readonly label: string;
  readonly family: FamilyId | typeof NETNS_FAMILY_ID;
  /** Which entry of the family the load generator uses. */
  readonly entry: keyof Entries;
  readonly protocol: Protocol;
  readonly bodies: readonly BodySize[];
  readonly directId: string;
  readonly nginxId: string;
  /** Every request carries the run's end-user JWT (bench/bench-token.ts). */
  readonly withToken?: boolean;
  /** Every request carries the exchange row's user token to the exchange route (bench/bench-exchange.ts). */
  readonly withExchange?: boolean;
  /** A `Host` header naming the outbound route (the explicit row of the transparent-capture family). */
  readonly host?: string;
}

const both: readonly BodySize[] = ['small', '16k'];
const h1 = { protocol: 'http/1.1', bodies: both, directId: 'direct', nginxId: 'nginx' } as const;
const h2 = { protocol: 'h2c', bodies: both, directId: 'direct-h2', nginxId: 'nginx-h2' } as const;
const grpc = { protocol: 'grpc', bodies: ['small'], directId: 'direct-grpc', nginxId: 'nginx-grpc' } as const;

/** Every row, in table order. */
export const CASES: readonly CaseSpec[] = [
  { id: 'direct', label: 'direct (no proxy)', family: 'direct', entry: 'h1', ...h1 },
  { id: 'sidecar', label: 'spiffe-sidecar pair, HTTP', family: 'sidecar-h1', entry: 'h1', ...h1 },
  { id: 'sidecar-jwt', label: 'spiffe-sidecar pair, HTTP + end-user JWT', family: 'sidecar-h1', entry: 'h1', ...h1, withToken: true },
  { id: 'sidecar-exchange', label: 'spiffe-sidecar pair, HTTP + RFC 8693 exchange (warm cache)', family: 'sidecar-h1', entry: 'h1', ...h1, withExchange: true },
  { id: 'nginx', label: 'nginx mTLS pair', family: 'nginx-h1', entry: 'h1', ...h1 },
  { id: 'ghostunnel', label: 'ghostunnel pair (L4)', family: 'ghostunnel', entry: 'h1', ...h1 },
  { id: 'sidecar-tcp', label: 'spiffe-sidecar pair, TCP mode (L4)', family: 'sidecar-h1', entry: 'tcp', ...h1 },
  { id: 'direct-h2', label: 'direct h2c (no proxy)', family: 'direct', entry: 'h2', ...h2 },
  { id: 'sidecar-h2', label: 'spiffe-sidecar pair, h2c app', family: 'sidecar-h2', entry: 'h2', ...h2 },
  { id: 'nginx-h2', label: 'nginx mTLS pair, HTTP/2', family: 'nginx-h2', entry: 'h2', ...h2 },
  { id: 'direct-grpc', label: 'direct gRPC unary', family: 'direct', entry: 'h2', ...grpc },
  { id: 'sidecar-grpc', label: 'spiffe-sidecar pair, gRPC unary', family: 'sidecar-h2', entry: 'h2', ...grpc },
  { id: 'nginx-grpc', label: 'nginx mTLS pair, gRPC unary', family: 'nginx-h2', entry: 'h2', ...grpc },
];

/**
 * The transparent-capture rows (issue 11): the same sidecar pair in two
 * network-namespace pods, measured side by side in interleaved sets
 * (bench/bench-transparent.ts). Explicit: the load generator calls the
 * client's outbound listener with the route's Host; transparent: it calls
 * the server pod's IP and app port, and iptables captures both ends.
 */
export const NETNS_CASES: readonly CaseSpec[] = [
  { id: 'sidecar-netns', label: 'spiffe-sidecar pair in netns pods, explicit (outbound listener + Host)', family: 'sidecar-netns', entry: 'h1', ...h1, host: 'bench-server' },
  { id: 'sidecar-transparent', label: 'spiffe-sidecar pair in netns pods, transparent capture (iptables)', family: 'sidecar-netns', entry: 'captured', ...h1 },
];

/** Durations and load shape. */
export interface LoadSettings {
  readonly warmupS: number;
  readonly throughputS: number;
  readonly latencyS: number;
  readonly h1Connections: number;
  readonly h2Clients: number;
  readonly h2Streams: number;
  /** Total offered rate of the latency runs (same for every row). */
  readonly latencyRps: number;
  readonly latencyClients: number;
}

/** How the load generator addresses one row. */
function target(ctx: BenchContext, spec: CaseSpec, body: BodySize, fam: RunningFamily, app: App): { url: string; headers: string[]; grpc?: { dataFile: string; headers: string[] } } {
  const base = fam.entries[spec.entry];
  if (base === undefined) throw new Error(`bench: family ${fam.id} has no ${spec.entry} entry for ${spec.id}`);
  if (spec.protocol === 'grpc') {
    return { url: base + GRPC_PATH, headers: [], grpc: { dataFile: app.grpcRequestFile, headers: ['content-type: application/grpc', 'te: trailers'] } };
  }
  if (spec.withExchange === true) {
    if (fam.exchangeSubjectToken === undefined) throw new Error(`bench: family ${fam.id} runs no authorization server for ${spec.id}`);
    return { url: `${base}/${body}`, headers: [`Host: ${EXCHANGE_HOST}`, `authorization: Bearer ${fam.exchangeSubjectToken}`] };
  }
  const headers = spec.withToken ? [`authorization: Bearer ${benchToken(ctx).token}`] : [];
  if (spec.host !== undefined) headers.push(`Host: ${spec.host}`);
  return { url: `${base}/${body}`, headers };
}

/** Runs the throughput tool for a row (used for warm-up too), inside the family's network namespace if it has one. */
function throughputRun(ctx: BenchContext, spec: CaseSpec, t: ReturnType<typeof target>, s: LoadSettings, durationS: number, netns: string | undefined): Promise<LoadResult> {
  if (spec.protocol === 'http/1.1') return runWrk(ctx.procs, { url: t.url, connections: s.h1Connections, durationS, cpu: ctx.cpu.load, headers: t.headers, netns });
  return runH2load(ctx.procs, {
    url: t.url,
    h1: false,
    clients: s.h2Clients,
    streams: s.h2Streams,
    durationS,
    cpu: ctx.cpu.load,
    netns,
    ...(t.grpc ? { dataFile: t.grpc.dataFile, headers: t.grpc.headers } : {}),
  });
}

function perRequest(us: number, requests: number): number {
  return requests > 0 ? Math.round((us / requests) * 10) / 10 : Number.NaN;
}

/** The throughput part of a row's result. */
export type ThroughputFigures = CaseResult['throughput'];
/** The latency part of a row's result. */
export type LatencyFigures = CaseResult['latency'];

/** Measures one row at one body size against a started family: warm-up, throughput, latency. */
export async function runCase(ctx: BenchContext, spec: CaseSpec, body: BodySize, fam: RunningFamily, app: App, s: LoadSettings): Promise<CaseResult> {
  await warmUpCase(ctx, spec, body, fam, app, s);
  const throughput = await measureThroughput(ctx, spec, body, fam, app, s, s.throughputS);
  return caseResult(spec, body, throughput, await measureLatency(ctx, spec, body, fam, app, s));
}

/** The row's throughput load for `s.warmupS` seconds, nothing measured. */
export async function warmUpCase(ctx: BenchContext, spec: CaseSpec, body: BodySize, fam: RunningFamily, app: App, s: LoadSettings): Promise<void> {
  if (s.warmupS > 0) await throughputRun(ctx, spec, target(ctx, spec, body, fam, app), s, s.warmupS, fam.netns);
}

/** Throughput at fixed concurrency for `durationS`, with CPU and peak RSS of each proxy side and the app's CPU. */
export async function measureThroughput(ctx: BenchContext, spec: CaseSpec, body: BodySize, fam: RunningFamily, app: App, s: LoadSettings, durationS: number): Promise<ThroughputFigures> {
  const t = target(ctx, spec, body, fam, app);
  const sides: ProcessGroup[] = [fam.client, fam.server].filter((g): g is ProcessGroup => g !== undefined);
  const cpuBefore = sides.map(groupCpuMicros);
  const appBefore = groupCpuMicros(app.group);
  const sampler = new RssSampler(sides, 100);
  const tp = await throughputRun(ctx, spec, t, s, durationS, fam.netns);
  const { peaks } = sampler.stop();
  const cpuAfter = sides.map(groupCpuMicros);
  const appAfter = groupCpuMicros(app.group);
  const appUs = appAfter.user + appAfter.sys - appBefore.user - appBefore.sys;
  const side = (g: ProcessGroup | undefined): SideFigures | undefined => {
    if (g === undefined) return undefined;
    const i = sides.indexOf(g);
    const user = cpuAfter[i]!.user - cpuBefore[i]!.user;
    const sys = cpuAfter[i]!.sys - cpuBefore[i]!.sys;
    return {
      cpuUsPerRequest: perRequest(user + sys, tp.requests),
      userUsPerRequest: perRequest(user, tp.requests),
      sysUsPerRequest: perRequest(sys, tp.requests),
      rssPeakBytes: peaks[i]!,
    };
  };
  const client = side(fam.client);
  const server = side(fam.server);
  return {
    tool: spec.protocol === 'http/1.1' ? 'wrk' : 'h2load',
    concurrency: spec.protocol === 'http/1.1' ? s.h1Connections : s.h2Clients * s.h2Streams,
    durationS,
    requests: tp.requests,
    rps: Math.round(tp.rps),
    errors: tp.errors,
    ...(client ? { client } : {}),
    ...(server ? { server } : {}),
    appCpuUsPerRequest: perRequest(appUs, tp.requests),
    raw: tp.raw,
  };
}

/** Latency at the fixed offered rate (h2load --rps, `--h1` for HTTP/1.1), percentiles from h2load's log. */
export async function measureLatency(ctx: BenchContext, spec: CaseSpec, body: BodySize, fam: RunningFamily, app: App, s: LoadSettings): Promise<LatencyFigures> {
  const t = target(ctx, spec, body, fam, app);
  const perClient = s.latencyRps / s.latencyClients;
  const lat = await runLatency(ctx.procs, {
    url: t.url,
    h1: spec.protocol === 'http/1.1',
    clients: s.latencyClients,
    streams: 1,
    durationS: s.latencyS,
    warmupS: 1,
    rpsPerClient: perClient,
    logFile: join(ctx.dir, `latency-${spec.id}-${body}.tsv`),
    cpu: ctx.cpu.load,
    netns: fam.netns,
    // h2load adds its own Host from the URL and sends a `Host:` header as a second one; `:authority` replaces it.
    ...(t.grpc ? { dataFile: t.grpc.dataFile, headers: t.grpc.headers } : { headers: t.headers.map((h) => h.replace(/^Host:/, ':authority:')) }),
  });
  return {
    tool: spec.protocol === 'http/1.1' ? 'h2load --h1 --rps' : 'h2load --rps',
    offeredRps: s.latencyRps,
    achievedRps: Math.round(lat.rps),
    durationS: s.latencyS,
    p50Ms: round3(lat.p50Ms),
    p90Ms: round3(lat.p90Ms),
    p99Ms: round3(lat.p99Ms),
    maxMs: round3(lat.maxMs),
    samples: lat.samples,
    errors: lat.errors,
    raw: lat.raw,
  };
}

/** One row's record from its measured parts. */
export function caseResult(spec: CaseSpec, body: BodySize, throughput: ThroughputFigures, latency: LatencyFigures): CaseResult {
  return {
    id: spec.id,
    label: spec.label,
    family: spec.family,
    protocol: spec.protocol,
    body,
    bodyBytes: spec.protocol === 'grpc' ? 11 : BODY_BYTES[body],
    directId: spec.directId,
    nginxId: spec.nginxId,
    throughput,
    latency,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
