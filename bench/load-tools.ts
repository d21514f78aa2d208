/**
 * Runs the load generators and parses what they print: wrk for HTTP/1.1
 * throughput at fixed concurrency, h2load for HTTP/2 (and gRPC) throughput,
 * and h2load's `--rps` mode for latency at a fixed offered rate (with
 * `--h1` for HTTP/1.1), percentiles computed from its per-request log.
 */
import { readFileSync } from 'node:fs';
import type { ProcessSet } from './process-set.ts';

/** What a throughput or latency run measured. */
export interface LoadResult {
  /** Requests completed in the measured window. */
  readonly requests: number;
  /** Completed requests per second as the tool reports it. */
  readonly rps: number;
  /** Non-2xx responses plus socket errors / failed requests. */
  readonly errors: number;
  /** The tool's own summary lines, for the JSON record. */
  readonly raw: string;
}

/** A latency run: the load result plus percentiles in milliseconds. */
export interface LatencyResult extends LoadResult {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly samples: number;
}

/** Waits for a tool to exit (killing it after `limitMs`) and returns its output; a non-zero exit is an error. */
async function finish(procs: ProcessSet, p: ReturnType<ProcessSet['spawn']>, limitMs: number): Promise<string> {
  const timer = setTimeout(() => void procs.stop(p, 'SIGKILL'), limitMs);
  const code = await p.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench: ${p.name} exited with ${code}:\n${p.output()}`);
  return p.output();
}

function num(re: RegExp, text: string, what: string): number {
  const m = re.exec(text);
  if (!m) throw new Error(`bench: could not read ${what} from:\n${text}`);
  return Number(m[1]);
}

/** Options of {@link runWrk}. */
export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly cpu: string | undefined;
  /** Extra request headers (`name: value`). */
  readonly headers?: readonly string[];
  /** Run inside this network namespace (`ip netns exec`, which execs the tool: same pid, same CPU pinning). */
  readonly netns?: string | undefined;
}

/** `cmd` as run by ProcessSet.spawn: inside network namespace `netns` when one is given. */
function inNetns(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', netns, cmd, ...args]];
}

/** Parses wrk's summary: total requests, Requests/sec, non-2xx/3xx and socket errors. */
export function parseWrk(out: string): LoadResult {
  const requests = num(/(\d+) requests in /, out, 'wrk request count');
  const rps = num(/Requests\/sec:\s+([\d.]+)/, out, 'wrk Requests/sec');
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = Number(non2xx?.[1] ?? 0) + (sock ? sock.slice(1).reduce((s, n) => s + Number(n), 0) : 0);
  return { requests, rps, errors, raw: out.trim() };
}

/** wrk with one thread (it has one core) at `connections` keep-alive connections. */
export async function runWrk(procs: ProcessSet, o: WrkOptions): Promise<LoadResult> {
  const headerArgs = (o.headers ?? []).flatMap((h) => ['-H', h]);
  const p = procs.spawn('wrk', ...inNetns(o.netns, 'wrk', ['-t1', `-c${o.connections}`, `-d${o.durationS}s`, '--timeout', '5s', ...headerArgs, o.url]), { cpu: o.cpu });
  return parseWrk(await finish(procs, p, (o.durationS + 30) * 1000));
}

/** Options of {@link runH2load}. */
export interface H2loadOptions {
  readonly url: string;
  /** Force HTTP/1.1 (`--h1`); otherwise h2c with prior knowledge for http:// URLs. */
  readonly h1: boolean;
  readonly clients: number;
  /** Concurrent streams per client (HTTP/2); 1 for HTTP/1.1. */
  readonly streams: number;
  readonly durationS: number;
  readonly warmupS?: number;
  /** Requests per second per client (fixed-rate mode). */
  readonly rpsPerClient?: number;
  /** Per-request log, needed for percentiles. */
  readonly logFile?: string;
  /** Request body file (makes the request a POST). */
  readonly dataFile?: string;
  readonly headers?: readonly string[];
  readonly cpu: string | undefined;
  /** As {@link WrkOptions.netns}. */
  readonly netns?: string | undefined;
}

/**
 * Parses h2load's summary: done requests, req/s, and errors = h2load's
 * "failed" count, which already includes non-2xx/3xx responses, "errored"
 * streams (reset or broken after the response began) and timeouts.
 */
export function parseH2load(out: string): LoadResult {
  const rps = num(/finished in [\d.]+\w*, ([\d.]+) req\/s/, out, 'h2load req/s');
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  if (!m) throw new Error(`bench: could not read h2load request counts from:\n${out}`);
  return { requests: Number(m[3]), rps, errors: Number(m[5]), raw: out.trim() };
}

/** Runs h2load with the given options (one thread). */
export async function runH2load(procs: ProcessSet, o: H2loadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${o.clients}`, `-m${o.streams}`, `-D${o.durationS}`];
  if (o.h1) args.push('--h1');
  if (o.warmupS !== undefined && o.warmupS > 0) args.push(`--warm-up-time=${o.warmupS}`);
  if (o.rpsPerClient !== undefined) args.push(`--rps=${o.rpsPerClient}`);
  if (o.logFile !== undefined) args.push(`--log-file=${o.logFile}`);
  if (o.dataFile !== undefined) args.push(`--data=${o.dataFile}`);
  for (const h of o.headers ?? []) args.push(`--header=${h}`);
  args.push(o.url);
  const p = procs.spawn('h2load', ...inNetns(o.netns, 'h2load', args), { cpu: o.cpu });
  const out = await finish(procs, p, (o.durationS + (o.warmupS ?? 0) + 30) * 1000);
  // Keep the summary, not h2load's per-thread progress lines.
  const from = out.indexOf('finished in');
  return parseH2load(from >= 0 ? out.slice(from) : out);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/**
 * Reads h2load's `--log-file` (start µs, status, duration µs per request)
 * and returns latency percentiles in milliseconds over every logged request.
 */
export function latencyFromLog(path: string): Pick<LatencyResult, 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs' | 'samples'> {
  const durations: number[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const cols = line.split('\t');
    if (cols.length < 3) continue;
    const us = Number(cols[2]);
    if (Number.isFinite(us) && us >= 0) durations.push(us / 1000);
  }
  durations.sort((a, b) => a - b);
  return {
    p50Ms: percentile(durations, 50),
    p90Ms: percentile(durations, 90),
    p99Ms: percentile(durations, 99),
    maxMs: durations[durations.length - 1] ?? Number.NaN,
    samples: durations.length,
  };
}

/** Fixed-rate latency run: h2load `--rps` per client, percentiles from the log. */
export async function runLatency(procs: ProcessSet, o: H2loadOptions & { readonly logFile: string; readonly rpsPerClient: number }): Promise<LatencyResult> {
  const r = await runH2load(procs, o);
  return { ...r, ...latencyFromLog(o.logFile) };
}
