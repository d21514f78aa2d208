/**
 * Starts the embedded dev agent for tests, in a fresh temp directory that is
 * removed afterwards: in-process ({@link startDevAgent}) for speed, or as a
 * real `node sidecar/cli/main.ts dev-agent` child process
 * ({@link spawnDevAgent}) when a test must kill and restart it.
 *
 * Pass the test context (or anything with `after`) as `cleanup` and the
 * agent, the process and the directory are torn down even when the test fails.
 *
 * A spawned agent keeps its authorities in `<dir>/agent-state` by default,
 * so an agent restarted on the same `dir` keeps its CA, as a restarted
 * SPIRE agent does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DevAgent, type DevAgentOptions, type DevAgentTrustDomain } from '../../sidecar/devagent/index.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..');
const mainScript = join(projectRoot, 'sidecar', 'cli', 'main.ts');

/** Something that runs a function after the test: a TestContext, or node:test's `after`. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** A workload: its SPIFFE IDs (first = default) and optional hints. */
export type WorkloadSpec = readonly string[] | { readonly ids: readonly string[]; readonly hints?: readonly string[]; readonly socketMode?: number };

/** Options shared by both starters. */
export interface TestAgentOptions {
  /** Default: one trust domain, example.org. */
  readonly trustDomains?: readonly DevAgentTrustDomain[];
  /** Workload name → identities; the socket is `<dir>/<name>.sock`. Default: `{ workload: ['spiffe://example.org/workload'] }`. */
  readonly workloads?: Readonly<Record<string, WorkloadSpec>>;
  /** Default 1 h (no rotation during a test unless asked for). */
  readonly svidTtlMs?: number;
  readonly jwtTtlMs?: number;
  /** Reuse this directory (e.g. to restart an agent on the same sockets); it is then not removed. */
  readonly dir?: string;
  /**
   * The agent's state directory (CA and JWT key kept across restarts), or
   * false for none (every start is a new CA). Default: `<dir>/agent-state`
   * for {@link spawnDevAgent}, none for {@link startDevAgent}.
   */
  readonly stateDir?: string | false;
  readonly cleanup?: Cleanup;
}

const defaultWorkloads: Record<string, WorkloadSpec> = { workload: ['spiffe://example.org/workload'] };

/** Makes a short temp directory (Unix socket paths are limited to 107 bytes). */
export function makeSocketDir(cleanup?: Cleanup): string {
  const base = tmpdir().length > 40 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'ssd-'));
  cleanup?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function idsOf(spec: WorkloadSpec): { ids: readonly string[]; hints?: readonly string[]; socketMode?: number } {
  return Array.isArray(spec) ? { ids: spec as readonly string[] } : (spec as Exclude<WorkloadSpec, readonly string[]>);
}

/** Sockets of a started agent, by workload name. */
export interface AgentSockets {
  readonly dir: string;
  /** Absolute socket path of workload `name` (default: the first workload). */
  socketPath(name?: string): string;
  /** `unix://` URI of workload `name`, for SPIFFE_ENDPOINT_SOCKET or `address`. */
  address(name?: string): string;
}

function sockets(dir: string, names: readonly string[]): AgentSockets {
  const socketPath = (name: string = names[0]!): string => {
    if (!names.includes(name)) throw new Error(`test dev agent: no workload named ${name}`);
    return join(dir, `${name}.sock`);
  };
  return { dir, socketPath, address: (name?: string) => `unix://${socketPath(name)}` };
}

/** An in-process dev agent. */
export interface InProcessAgent extends AgentSockets {
  readonly agent: DevAgent;
  stop(): Promise<void>;
}

/** Starts a DevAgent in this process. */
export async function startDevAgent(opts: TestAgentOptions & Partial<Pick<DevAgentOptions, 'clock' | 'logger'>> = {}): Promise<InProcessAgent> {
  const dir = opts.dir ?? makeSocketDir(opts.cleanup);
  const specs = opts.workloads ?? defaultWorkloads;
  const names = Object.keys(specs);
  const s = sockets(dir, names);
  const agent = await DevAgent.start({
    trustDomains: opts.trustDomains ?? [{ name: 'example.org' }],
    workloads: names.map((n) => ({ socketPath: s.socketPath(n), ...idsOf(specs[n]!) })),
    svidTtlMs: opts.svidTtlMs ?? 3_600_000,
    ...(opts.jwtTtlMs !== undefined ? { jwtTtlMs: opts.jwtTtlMs } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(typeof opts.stateDir === 'string' ? { stateDir: opts.stateDir } : {}),
  });
  opts.cleanup?.after(() => agent.stop());
  return { ...s, agent, stop: () => agent.stop() };
}

/** One JSON log line of the dev-agent process. */
export type AgentEvent = Record<string, unknown> & { event?: string };

/** A dev agent running as a child process. */
export interface AgentProcess extends AgentSockets {
  readonly child: ChildProcess;
  /** Every JSON line logged so far. */
  readonly events: readonly AgentEvent[];
  /** Everything written to stderr. */
  stderr(): string;
  /** Resolves with the first event (past or future) matching `pred`; rejects after `timeoutMs` (default 20 s). */
  waitForEvent(pred: (ev: AgentEvent) => boolean, timeoutMs?: number): Promise<AgentEvent>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then waits for exit; returns the exit code. */
  stop(): Promise<number | string>;
  /** SIGKILL (no cleanup, the socket file stays), then waits for exit. */
  kill(): Promise<void>;
}

/** The state directory a spawned agent in `dir` uses when the options do not say. */
export function defaultStateDir(dir: string): string {
  return join(dir, 'agent-state');
}

/** Builds the `dev-agent` command line for the given options. */
export function devAgentArgs(dir: string, opts: TestAgentOptions): string[] {
  const specs = opts.workloads ?? defaultWorkloads;
  const args = ['dev-agent'];
  for (const td of opts.trustDomains ?? [{ name: 'example.org' }]) {
    args.push('--trust-domain', td.name);
    for (const f of td.federatesWith ?? []) args.push('--federate', `${td.name}=${f}`);
  }
  for (const [name, spec] of Object.entries(specs)) args.push('--workload', `${join(dir, `${name}.sock`)}=${idsOf(spec).ids.join(',')}`);
  args.push('--ttl', `${opts.svidTtlMs ?? 3_600_000}ms`);
  if (opts.jwtTtlMs !== undefined) args.push('--jwt-ttl', `${opts.jwtTtlMs}ms`);
  const stateDir = opts.stateDir ?? defaultStateDir(dir);
  if (stateDir !== false) args.push('--state-dir', stateDir);
  return args;
}

/**
 * Spawns `node sidecar/cli/main.ts dev-agent ...` and resolves once it
 * logged `ready`. Killed (SIGKILL) at cleanup if still running. Unless
 * `stateDir` says otherwise, the authorities are kept in `<dir>/agent-state`.
 */
export async function spawnDevAgent(opts: TestAgentOptions & { readonly extraArgs?: readonly string[] } = {}): Promise<AgentProcess> {
  const dir = opts.dir ?? makeSocketDir(opts.cleanup);
  const names = Object.keys(opts.workloads ?? defaultWorkloads);
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', mainScript, ...devAgentArgs(dir, opts), ...(opts.extraArgs ?? [])], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: AgentEvent[] = [];
  const waiters = new Set<{ pred: (ev: AgentEvent) => boolean; resolve: (ev: AgentEvent) => void }>();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let ev: AgentEvent;
    try {
      ev = JSON.parse(line) as AgentEvent;
    } catch {
      return;
    }
    events.push(ev);
    for (const w of [...waiters]) {
      if (w.pred(ev)) {
        waiters.delete(w);
        w.resolve(ev);
      }
    }
  });
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => res(code ?? signal ?? 'unknown')));
  let running = true;
  void exited.then(() => (running = false));
  opts.cleanup?.after(async () => {
    if (running) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  const waitForEvent = (pred: (ev: AgentEvent) => boolean, timeoutMs = 20_000): Promise<AgentEvent> => {
    const past = events.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (ev: AgentEvent) => {
          clearTimeout(timer);
          resolve(ev);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`dev agent: no matching event within ${timeoutMs} ms; stderr: ${stderr}; events: ${JSON.stringify(events)}`));
      }, timeoutMs);
      waiters.add(w);
      void exited.then((code) => {
        if (waiters.delete(w)) {
          clearTimeout(timer);
          reject(new Error(`dev agent exited (${code}) before the expected event; stderr: ${stderr}`));
        }
      });
    });
  };

  await waitForEvent((ev) => ev.event === 'ready');
  return {
    ...sockets(dir, names),
    child,
    events,
    stderr: () => stderr,
    waitForEvent,
    exited,
    async stop() {
      if (running) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
}
