/**
 * Starts the embedded dev agent for tests, in a fresh temp directory that is
 * removed afterwards, in-process, for speed. A test that must kill and
 * restart the agent runs it as a real process (dev-agent-process.ts); this
 * module starts none, so unit tests may use it.
 *
 * Pass the test context (or anything with `after`) as `cleanup` and the
 * agent, the process and the directory are torn down even when the test fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevAgent, type DevAgentOptions, type DevAgentTrustDomain } from '../../sidecar/devagent/index.ts';


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

export const defaultWorkloads: Record<string, WorkloadSpec> = { workload: ['spiffe://example.org/workload'] };

/** Makes a short temp directory (Unix socket paths are limited to 107 bytes). */
export function makeSocketDir(cleanup?: Cleanup): string {
  const base = tmpdir().length > 40 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'ssd-'));
  cleanup?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function idsOf(spec: WorkloadSpec): { ids: readonly string[]; hints?: readonly string[]; socketMode?: number } {
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

export function sockets(dir: string, names: readonly string[]): AgentSockets {
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
