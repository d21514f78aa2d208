import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { httpCall, type HttpResult } from './http-call.ts';
import { describeError } from '../core/index.ts';

/** One log line of a sidecar: pino's JSON fields (non-JSON output is kept as `{ msg }`). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** Options of {@link SidecarProcess.spawn}. */
export interface SidecarProcessOptions {
  /** The node binary (process.execPath of the caller). */
  readonly execPath: string;
  /** `sidecar/cli/main.ts`. */
  readonly mainScript: string;
  /** Runs `run --config configPath`; leave it out to pass `args` instead. */
  readonly configPath?: string;
  /** The CLI arguments when there is no configPath (default `run`). */
  readonly args?: readonly string[];
  /** The admin port of that config, for readiness polling. */
  readonly adminPort: number;
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Also append every output line to this file. */
  readonly logFile?: string;
  /** Extra node options before the script. */
  readonly nodeArgs?: readonly string[];
  /** Lines kept in memory (default 5000, oldest dropped). */
  readonly maxLines?: number;
}

/** How a sidecar process ended: its exit code, or the signal name. */
export type ExitStatus = number | string;

/**
 * A `spiffe-sidecar run --config FILE` child process: its parsed log
 * lines, admin requests, readiness polling and a clean stop. The demo runs
 * its sidecars with it; the integration tests extend it
 * (test/support/sidecar-child.ts adds waiting for a log line through
 * {@link onLogLine}) and reach it through sidecar/testing.ts.
 */
export class SidecarProcess {
  readonly child: ChildProcess;
  readonly adminPort: number;
  /** Parsed stdout lines so far. */
  readonly lines: LogLine[] = [];
  /** Resolves once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  #stderr = '';
  #running = true;
  readonly #maxLines: number;
  readonly #file: WriteStream | undefined;

  /** Spawns the process; use {@link spawn} (subclasses call it through `super`). */
  protected constructor(o: SidecarProcessOptions) {
    this.adminPort = o.adminPort;
    this.#maxLines = o.maxLines ?? 5000;
    this.#file = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
    this.#file?.on('error', () => {});
    const args = o.configPath !== undefined ? ['run', '--config', o.configPath] : (o.args ?? ['run']);
    this.child = spawn(o.execPath, [...(o.nodeArgs ?? ['--disable-warning=ExperimentalWarning']), o.mainScript, ...args], {
      cwd: o.cwd,
      env: o.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
      this.#file?.write(d);
    });
    createInterface({ input: this.child.stdout! }).on('line', (raw) => this.#onLine(raw));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#running = false;
        this.#file?.end();
        resolve(code ?? signal ?? 'unknown');
      });
    });
  }

  /** Starts the process (it is not waited for; see {@link waitReady}). */
  static spawn(o: SidecarProcessOptions): SidecarProcess {
    return new SidecarProcess(o);
  }

  /** True until the process exited. */
  get running(): boolean {
    return this.#running;
  }

  /** Everything written to stderr. */
  stderr(): string {
    return this.#stderr;
  }

  /** The last `n` output lines as text, for failure messages. */
  tail(n = 30): string {
    const out = this.lines.slice(-n).map((l) => JSON.stringify(l));
    if (this.#stderr) out.push(`stderr: ${this.#stderr.slice(-4000)}`);
    return out.join('\n');
  }

  /** GET on the admin listener. */
  admin(path: string): Promise<HttpResult> {
    return httpCall(this.adminPort, path, { timeoutMs: 5_000 });
  }

  /** Polls the admin listener until `path` answers `status`; rejects on timeout or exit. */
  async waitFor(path: string, status: number, timeoutMs = 20_000, bodyIncludes?: string): Promise<HttpResult> {
    const until = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      if (!this.#running) throw new Error(`sidecar exited (${await this.exited}) while waiting for ${path} ${status}; last lines:\n${this.tail()}`);
      try {
        const r = await this.admin(path);
        if (r.status === status && (bodyIncludes === undefined || r.body.includes(bodyIncludes))) return r;
        last = `${r.status} ${r.body.trim()}`;
      } catch (err) {
        last = describeError(err);
      }
      if (Date.now() > until) throw new Error(`sidecar: ${path} did not answer ${status} within ${timeoutMs} ms (last: ${last}); last lines:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until /readyz answers 200. */
  waitReady(timeoutMs = 20_000): Promise<HttpResult> {
    return this.waitFor('/readyz', 200, timeoutMs);
  }

  /** One sample of a metric from /metrics (sum of every series whose labels include `labels`), or undefined when absent. */
  async metric(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number | undefined> {
    const r = await this.admin('/metrics');
    return metricValue(r.body, name, labels);
  }

  /** Sends `signal` (default SIGTERM) and resolves with the exit status. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    if (this.#running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGKILL if still running, then waits for the exit. */
  async kill(): Promise<void> {
    if (this.#running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves once it exited. */
  async stopWithin(graceMs: number): Promise<void> {
    const stopped = this.stop();
    const timer = setTimeout(() => void this.kill(), graceMs);
    await stopped;
    clearTimeout(timer);
  }

  /** Called with every parsed output line, after it was added to {@link lines}; does nothing here. */
  protected onLogLine(_line: LogLine): void {}

  #onLine(raw: string): void {
    this.#file?.write(raw + '\n');
    let line: LogLine;
    try {
      const parsed: unknown = JSON.parse(raw);
      line = parsed !== null && typeof parsed === 'object' ? (parsed as LogLine) : { msg: raw };
    } catch {
      line = { msg: raw };
    }
    this.lines.push(line);
    if (this.lines.length > this.#maxLines) this.lines.splice(0, this.lines.length - this.#maxLines);
    this.onLogLine(line);
  }
}

/**
 * Sums the samples of `name` in Prometheus text whose labels include every
 * entry of `labels`; undefined when no sample matches.
 */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const close = rest[0] === '{' ? rest.indexOf('} ') : -1;
    const labelText = close === -1 ? '' : rest.slice(1, close);
    const value = Number(rest.slice(close === -1 ? 1 : close + 2).trim().split(' ')[0]);
    const have = new Map<string, string>();
    for (const m of labelText.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) have.set(m[1]!, m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum = (sum ?? 0) + value;
  }
  return sum;
}
