import { getSystemErrorMessage } from 'node:util';
import { SidecarError } from '../core/index.ts';
import { EXIT_FAILURE, EXIT_INTERNAL, EXIT_USAGE } from './exit-codes.ts';
import { UsageError } from './io.ts';
import { terminalSafe } from './problem-report.ts';

/** A failed system call as Node reports it (fs, net). */
export interface SystemError {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

/** True for an error from a failed system call (it has code, errno and syscall). */
export function isSystemError(err: unknown): err is Error & SystemError {
  const e = err as Partial<SystemError> | null;
  return err instanceof Error && typeof e?.code === 'string' && typeof e.errno === 'number' && typeof e.syscall === 'string';
}

const VERBS: Readonly<Record<string, string>> = {
  open: 'cannot open',
  read: 'cannot read',
  write: 'cannot write',
  mkdir: 'cannot create directory',
  unlink: 'cannot remove',
  scandir: 'cannot list',
  stat: 'cannot find',
  lstat: 'cannot find',
  connect: 'cannot connect to',
};

/**
 * A failed system call in this CLI's words: `cannot open policy.yaml: no
 * such file or directory (ENOENT)` instead of Node's `ENOENT: no such file
 * or directory, open 'policy.yaml'`.
 */
export function systemErrorText(err: Error & SystemError): string {
  const verb = VERBS[err.syscall] ?? `${err.syscall} failed for`;
  const what = err.path === undefined ? '' : ` ${err.path}`;
  return `${verb}${what}: ${systemErrorReason(err)}`;
}

/** The reason of a failed system call alone: `no such file or directory (ENOENT)`. */
export function systemErrorReason(err: Error & SystemError): string {
  let reason: string;
  try {
    reason = getSystemErrorMessage(err.errno);
  } catch {
    reason = 'failed';
  }
  return `${reason} (${err.code})`;
}

/**
 * One description of any error for a terminal: SidecarErrors with their
 * code, failed system calls in plain words, anything else by its message.
 * Control characters are escaped; line breaks of multi-line messages stay.
 */
export function describeCliError(err: unknown): string {
  let text: string;
  if (err instanceof SidecarError) text = `${err.message} [${err.code}]`;
  else if (isSystemError(err)) text = systemErrorText(err);
  else if (err instanceof Error) text = err.message;
  else text = String(err);
  return text.split('\n').map(terminalSafe).join('\n');
}

/** Error classes the language raises for mistakes in code, never for bad input handled on purpose. */
const BUG_CLASSES = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError] as const;

/**
 * The exit status for an error a command threw: 2 for bad usage; 70 for a
 * bug (a TypeError and its kin, or a thrown value that is not an Error);
 * 1 for every other failure (SidecarErrors, failed system calls, library
 * errors such as a TLS key that does not parse).
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (!(err instanceof Error) || BUG_CLASSES.some((c) => err instanceof c)) return EXIT_INTERNAL;
  return EXIT_FAILURE;
}
