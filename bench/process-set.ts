/**
 * Every process and temp directory the benchmark starts, so that all of them
 * are stopped and removed at the end: on success, on error, on Ctrl-C, and
 * (synchronously, with SIGKILL) when the harness exits unexpectedly.
 *
 * Children are started in their own process group (detached) so that a
 * signal reaches nginx's workers too; the group is always one we created.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** How much of each child's output is kept for error messages. */
const KEEP_OUTPUT = 64 * 1024;

/** Options of {@link ProcessSet.spawn}. */
export interface SpawnOptions {
  /** CPU list for `taskset -c` (e.g. "1"); undefined runs unpinned. */
  readonly cpu?: string | undefined;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each complete stdout line. */
  readonly onLine?: (line: string) => void;
}

/** One started process. */
export interface Spawned {
  readonly name: string;
  /** The process id (taskset execs the command, so this is the command's pid). */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code or signal name. */
  readonly exited: Promise<number | string>;
  /** True until the process has exited. */
  running(): boolean;
  /** The last 64 KiB of stdout and stderr, for diagnostics. */
  output(): string;
}

/** Tracks started processes and temp directories; see the file comment. */
export class ProcessSet {
  readonly #procs = new Set<Spawned>();
  readonly #dirs = new Set<string>();
  #logDir: string | undefined;

  /** From now on, also append each new process's stdout and stderr to `<dir>/<name>-<pid>.log`. */
  logTo(dir: string): void {
    mkdirSync(dir, { recursive: true });
    this.#logDir = dir;
  }

  /** Starts `cmd args`, pinned with taskset when `opts.cpu` is given, in a new process group. */
  spawn(name: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): Spawned {
    const [file, argv] = opts.cpu !== undefined ? ['taskset', ['-c', opts.cpu, cmd, ...args]] : [cmd, [...args]];
    const child = spawn(file, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`bench: could not start ${name} (${cmd})`);
    let out = '';
    let partial = '';
    const logFile: WriteStream | undefined = this.#logDir ? createWriteStream(join(this.#logDir, `${name}-${child.pid}.log`)) : undefined;
    logFile?.on('error', () => {});
    const keep = (d: string): void => {
      out = (out + d).slice(-KEEP_OUTPUT);
      logFile?.write(d);
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      keep(d);
      if (!opts.onLine) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.onLine(l);
    });
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.on('error', (err) => keep(`\n[spawn error] ${String(err)}\n`));
    let alive = true;
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => {
        alive = false;
        logFile?.end();
        resolve(code ?? signal ?? 'unknown');
      }),
    );
    const p: Spawned = { name, pid: child.pid, child, exited, running: () => alive, output: () => out };
    this.#procs.add(p);
    void exited.then(() => this.#procs.delete(p));
    return p;
  }

  /** Signals the process group of `p`, then SIGKILLs it if it is still running after `graceMs`. */
  async stop(p: Spawned, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<number | string> {
    if (p.running()) signalGroup(p.pid, signal);
    const timer = setTimeout(() => {
      if (p.running()) signalGroup(p.pid, 'SIGKILL');
    }, graceMs);
    try {
      return await p.exited;
    } finally {
      clearTimeout(timer);
      // nginx workers may outlive a killed master by a moment; the group is ours.
      signalGroup(p.pid, 'SIGKILL');
    }
  }

  /** Stops every tracked process (in parallel). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#procs].map((p) => this.stop(p)));
  }

  /** Makes a temp directory that {@link removeDirs} (or exit) removes; short, for Unix socket paths. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join('/tmp', prefix));
    this.#dirs.add(dir);
    return dir;
  }

  /** Removes every temp directory made by {@link tempDir}. */
  removeDirs(): void {
    for (const d of this.#dirs) rmSync(d, { recursive: true, force: true });
    this.#dirs.clear();
  }

  /** Last resort from an 'exit' handler: SIGKILL every group and remove the directories (unless `keepDirs`), synchronously. */
  killAllSync(keepDirs = false): void {
    for (const p of this.#procs) if (p.running()) signalGroup(p.pid, 'SIGKILL');
    if (!keepDirs) this.removeDirs();
  }
}

/** Sends `signal` to the process group led by `pid`; a group that is already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
