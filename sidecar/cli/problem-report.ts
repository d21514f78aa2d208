import type { ConfigError } from '../config/index.ts';
import type { PolicyError } from '../policy/index.ts';

/** One thing wrong with an input file, as the CLI prints it. */
export interface Problem {
  /** The file as the user named it, or `(environment)`. */
  readonly file: string;
  /** Where in it: a dotted path (`rules[0].from[0].id`), `line L, column C`, `(document)`, or '' for the file as a whole. */
  readonly path: string;
  /** What is wrong, with a did-you-mean when the loader offers one. */
  readonly message: string;
}

/**
 * Makes text from a file safe to print on a terminal: control characters
 * (C0, DEL, C1) become `\u` escapes, so a crafted key cannot send escape
 * sequences to the operator's terminal (ECMA-48 §5).
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The problems of a {@link ConfigError}; `file` names the configuration
 * file. Problems of environment variables (path `env NAME`) are attributed
 * to `(environment)`, since they are not in the file.
 */
export function configProblems(err: ConfigError, file: string): Problem[] {
  return err.problems.map((p) => ({ file: p.path.startsWith('env ') ? '(environment)' : file, path: p.path, message: p.message }));
}

/**
 * Splits one of {@link PolicyError.problems} into path and message. The
 * loader writes each problem location first: `<source>:<line>:<col>: ...`
 * for YAML syntax, `<path>: ...` for a wrong document.
 */
function splitPolicyProblem(text: string, source: string): { path: string; message: string } {
  if (text.startsWith(`${source}:`)) {
    const rest = text.slice(source.length + 1);
    const at = /^(\d+):(\d+): ([\s\S]*)$/.exec(rest);
    if (at) return { path: `line ${at[1]}, column ${at[2]}`, message: at[3]! };
    return { path: '(document)', message: rest.trim() };
  }
  const colon = text.indexOf(': ');
  if (colon <= 0) return { path: '(document)', message: text };
  return { path: text.slice(0, colon), message: text.slice(colon + 2) };
}

/** The problems of a {@link PolicyError} raised by `loadPolicyText(text, source)`. */
export function policyProblems(err: PolicyError, source: string): Problem[] {
  return err.problems.map((p) => ({ file: source, ...splitPolicyProblem(p, source) }));
}

/** One line per problem, `FILE: PATH: MESSAGE` (`FILE: MESSAGE` without a path), terminal-safe. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => terminalSafe(p.path === '' ? `${p.file}: ${p.message}` : `${p.file}: ${p.path}: ${p.message}`) + '\n').join('');
}

/** `1 problem` / `3 problems`. */
export function countProblems(n: number): string {
  return n === 1 ? '1 problem' : `${n} problems`;
}
