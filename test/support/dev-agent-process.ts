/**
 * The embedded dev agent as a real `node sidecar/cli/main.ts dev-agent`
 * child process, for tests that must kill and restart it (integration
 * tests only: unit tests start no processes). Pass the test context as
 * `cleanup` and the process and its directory are torn down even when the
 * test fails.
 *
 * A spawned agent keeps its authorities in `<dir>/agent-state` by default,
 * so an agent restarted on the same `dir` keeps its CA, as a restarted
 * SPIRE agent does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { defaultWorkloads, idsOf, makeSocketDir, sockets, type AgentSockets, type TestAgentOptions } from './dev-agent-harness.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..');
const mainScript = join(projectRoot, 'sidecar', 'cli', 'main.ts');

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
