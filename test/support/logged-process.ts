/**
 * Long-running test processes whose output goes to a log file in the
 * test's temp folder (printed on failure), with a way to wait for a line
 * they print, and registration of their stop with a Teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Teardown } from './teardown.ts';

/** A started process and its log. */
export interface LoggedProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  /** True once the process has exited. */
  exited(): boolean;
  /** Resolves when a printed line matches `re`; rejects when the process exits first or after `ms`. */
  waitForLine(re: RegExp, ms: number): Promise<string>;
  /** The last `lines` lines of the log. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startLogged}. */
export interface StartLoggedOptions {
  readonly name: string;
  readonly argv: readonly string[];
  readonly logFile: string;
  readonly teardown: Teardown;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads the tail of a log file ('(no log)' when there is none). */
export function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `argv` (no shell) with stdout and stderr appended to `logFile`,
 * and registers its stop with the teardown (SIGTERM with a grace period;
 * SIGKILL from the exit hook).
 */
export function startLogged(o: StartLoggedOptions): LoggedProcess {
  const [cmd, ...args] = o.argv;
  const proc = spawn(cmd!, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(o.logFile, { flags: 'a' });
  let buffered = '';
  const lines: string[] = [];
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters) w();
  };
  const onData = (chunk: Buffer): void => {
    log.write(chunk);
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    wake();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  proc.on('error', (err) => {
    log.write(`spawn error: ${err.message}\n`);
    wake();
  });
  const exitedPromise = once(proc, 'exit').catch(() => undefined);
  proc.on('exit', (code, signal) => {
    log.write(`--- exited (${code ?? signal}) ---\n`);
    wake();
  });
  proc.on('close', () => log.end());

  const exited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exitedPromise;
    clearTimeout(timer);
  };
  o.teardown.add(
    `stop ${o.name}`,
    () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
    () => stop(),
  );

  return {
    name: o.name,
    proc,
    logFile: o.logFile,
    exited,
    tail: (n = 40) => logTail(o.logFile, n),
    stop,
    waitForLine(re, ms) {
      return new Promise((resolve, reject) => {
        let from = 0;
        const check = (): boolean => {
          for (; from < lines.length; from++) {
            const line = lines[from]!;
            if (re.test(line)) {
              done();
              resolve(line);
              return true;
            }
          }
          if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`${o.name} exited (${proc.exitCode ?? proc.signalCode}) before printing ${re}; log ${o.logFile}:\n${logTail(o.logFile, 30)}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${o.name} did not print ${re} within ${ms} ms; log ${o.logFile}:\n${logTail(o.logFile, 30)}`));
        }, ms);
        const waiter = (): void => void check();
        const done = (): void => {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== waiter);
        };
        if (!check()) waiters.push(waiter);
      });
    },
  };
}
