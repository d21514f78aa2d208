import type { Writable } from 'node:stream';

/**
 * What a CLI command may touch of the outside world. Commands receive it
 * instead of reaching for `process` so tests can run them in-process.
 */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the user asks the process to stop (SIGINT/SIGTERM). */
  readonly stopSignal: AbortSignal;
}

/** A CLI subcommand: parses its own arguments and returns the exit code. */
export type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Thrown for bad command-line usage; the dispatcher prints it and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
