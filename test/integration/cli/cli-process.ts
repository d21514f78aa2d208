/**
 * Runs a CLI entry point as a real child process and collects its output.
 * The child is killed after the timeout and, through `cleanup`, after the
 * test (also when it fails).
 */
import { spawn } from 'node:child_process';
import { delimiter, join, resolve, sep } from 'node:path';
import { accessSync, constants } from 'node:fs';
import type { Cleanup } from '../../support/dev-agent-harness.ts';

/** The repository root. */
export const repo = resolve(import.meta.dirname, '..', '..', '..');
/** The published entry point. */
export const bin = join(repo, 'bin', 'spiffe-sidecar.js');
/** The project's Node (the `node` devDependency). */
export const bundledNode = join(repo, 'node_modules', '.bin', 'node');

/** What a finished process left behind. */
export interface Finished {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runProcess}. */
export interface RunOptions {
  readonly cleanup: Cleanup;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Close the read end of the child's stdout at once, as `| head -0` would. */
  readonly closeStdout?: boolean;
  readonly timeoutMs?: number;
}

/** Starts `command args...`, waits for it to exit, returns status and output. */
export function runProcess(command: string, args: readonly string[], o: RunOptions): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = spawn(command, [...args], { cwd: o.cwd ?? repo, env: { ...(o.env ?? process.env) } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    o.cleanup.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    if (o.closeStdout) child.stdout.destroy();
    else child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout, stderr });
    });
  });
}

/** PATH without the project's node_modules/.bin, as a user's shell has it. */
export function systemPath(): string {
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((d) => d !== '' && !d.split(sep).includes('node_modules'))
    .join(delimiter);
}

/** The first `node` on {@link systemPath}, or undefined. */
export function systemNode(): string | undefined {
  for (const dir of systemPath().split(delimiter)) {
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when some line looks like a JavaScript stack frame. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[(:]\d+/m.test(text);
}
