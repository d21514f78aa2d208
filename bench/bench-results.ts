/**
 * The shape of a benchmark run's JSON record (bench/results/*.json), shared
 * by the harness, the report and the quick-mode test.
 */
import type { Machine, Versions } from './machine-info.ts';
import type { ProfileSummary } from './cpu-profile-summary.ts';
import type { LoadSettings } from './cases.ts';
import type { RateTargetReport } from './rate-client.ts';

/** Wire protocol between load generator and proxy (and between the proxy and the app). */
export type Protocol = 'http/1.1' | 'h2c' | 'grpc';

/** The two response bodies. */
export type BodySize = 'small' | '16k';

/** Figures of one proxy side (client = the side the load generator talks to). */
export interface SideFigures {
  /** utime+stime of the side's processes during the throughput run, divided by completed requests. */
  readonly cpuUsPerRequest: number;
  /** The user-space (utime) and kernel (stime) parts of cpuUsPerRequest. */
  readonly userUsPerRequest: number;
  readonly sysUsPerRequest: number;
  /** Peak summed VmRSS of the side's processes, sampled every 100 ms during the throughput run. */
  readonly rssPeakBytes: number;
}

/** One scenario at one body size. */
export interface CaseResult {
  /** Stable id, e.g. `sidecar-h2`. */
  readonly id: string;
  readonly label: string;
  readonly family: string;
  readonly protocol: Protocol;
  readonly body: BodySize;
  readonly bodyBytes: number;
  /** Ids of the rows this one is compared with. */
  readonly directId: string;
  readonly nginxId: string;
  readonly throughput: {
    readonly tool: string;
    readonly concurrency: number;
    readonly durationS: number;
    readonly requests: number;
    readonly rps: number;
    readonly errors: number;
    readonly client?: SideFigures;
    readonly server?: SideFigures;
    /** CPU of the upstream app (nginx) per request. */
    readonly appCpuUsPerRequest: number;
    /** The tool's summary output. */
    readonly raw: string;
  };
  readonly latency: {
    readonly tool: string;
    readonly offeredRps: number;
    readonly achievedRps: number;
    readonly durationS: number;
    readonly p50Ms: number;
    readonly p90Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly samples: number;
    readonly errors: number;
    /** h2load's summary output. */
    readonly raw: string;
  };
}

/** The processes of one started family, idle. */
export interface FamilyResult {
  readonly id: string;
  readonly label: string;
  /** Summed VmRSS per side after start-up and a settle pause, before any load. */
  readonly idleRssBytes: { readonly client?: number; readonly server?: number };
  /** Process ids per side (nginx: master and worker). */
  readonly pids: { readonly client?: readonly number[]; readonly server?: readonly number[] };
  /** Sidecars only: V8 heap figures from their /metrics, idle and after the family's last run. */
  readonly sidecarHeap?: { readonly idle: HeapBySide; readonly afterLoad?: HeapBySide };
}

/** prom-client's Node.js memory gauges of one sidecar process. */
export interface HeapFigures {
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
}

/** Heap figures per side. */
export interface HeapBySide {
  readonly client?: HeapFigures;
  readonly server?: HeapFigures;
}

/** Time from spawn to the first successful readiness answer. */
export interface ReadinessResult {
  readonly what: string;
  readonly endpoint: string;
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** RSS 1 s after the last run became ready (null for rows that are not servers). */
  readonly rssAfterReadyBytes: number | null;
}

/** RSS of one stage of a sidecar's start (see bench.ts memoryStages). */
export interface MemoryStage {
  readonly what: string;
  readonly rssBytes: number;
}

/** Requests under load while the dev agent rotates SVIDs on a short TTL. */
export interface RotationResult {
  readonly svidTtlMs: number;
  readonly durationS: number;
  /** What rate-client.ts reported per stream, with the rate it was asked for. */
  readonly streams: readonly (RateTargetReport & { readonly rps: number })[];
  readonly failed: number;
  /** The same load on a pair whose SVIDs do not rotate (1 h TTL), for comparison. */
  readonly control: RotationResult['streams'];
  /** `rotated` events the dev agent logged during the window. */
  readonly agentRotations: number;
  /** sidecar_svid_rotations_total of each side at the end (undefined if unreadable). */
  readonly sidecarRotations: { readonly client?: number; readonly server?: number };
}

/** One throughput run of the transparent-capture family (bench/bench-transparent.ts). */
export interface TransparentSetRun {
  /** 1-based set number; within a set each body runs both rows back to back. */
  readonly set: number;
  readonly body: BodySize;
  /** `sidecar-netns` (explicit) or `sidecar-transparent`. */
  readonly id: string;
  /** Which of the two rows ran first at this body in this set (they alternate from set to set). */
  readonly first: boolean;
  readonly rps: number;
  readonly errors: number;
  /** CPU µs per request of the client and the server sidecar over the run (as SideFigures.cpuUsPerRequest). */
  readonly cpuUsPerRequest: { readonly client: number; readonly server: number };
}

/** The transparent-capture rows: how they were set up, each set's figures, or why they did not run. */
export interface TransparentRun {
  /** Why the rows were not measured (no root, a missing tool, or the step that failed); absent when they were. */
  readonly notRun?: string;
  /** Sets of interleaved throughput runs; each row's throughput in the tables is its median set's, the goal is the median per-set ratio. */
  readonly sets: number;
  /** Throughput seconds per run, after `warmupS` of the same load. */
  readonly throughputS: number;
  readonly warmupS: number;
  /** The bridge, pod addresses and ports, for the report. */
  readonly network?: string;
  readonly runs: readonly TransparentSetRun[];
}

/** A whole run. */
export interface BenchResults {
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly elapsedS: number;
  readonly command: string;
  readonly machine: Machine;
  /** os.loadavg() (1, 5, 15 min) before and after the run: how busy the machine was with other work. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly versions: Versions;
  readonly pinning: { readonly load: string | null; readonly proxies: string | null; readonly note: string };
  readonly settings: LoadSettings & { readonly app: string };
  /** How the sidecars ran: entry script (compiled dist/ or source) and node flags; absent in records from before it was kept. */
  readonly sidecar?: { readonly script: string; readonly nodeFlags: readonly string[]; readonly note: string };
  readonly families: readonly FamilyResult[];
  readonly cases: readonly CaseResult[];
  readonly readiness: readonly ReadinessResult[];
  readonly memory: readonly MemoryStage[];
  readonly rotation: RotationResult | null;
  readonly profile: ProfileSummary | null;
  /** The transparent-capture family; absent in records from before it existed and when --only left it out. */
  readonly transparent?: TransparentRun;
  /** Steps that failed without stopping the run (a family that did not start, a failed gRPC check); the run exits 1. */
  readonly problems: readonly string[];
  /** Observations that do not fail the run, such as requests that failed under load. */
  readonly notes: readonly string[];
}
