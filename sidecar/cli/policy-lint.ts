import { readFile, stat } from 'node:fs/promises';
import { loadPolicyText, PolicyError } from '../policy/index.ts';
import { describeCliError, isSystemError, systemErrorReason } from './cli-error.ts';
import { policyProblems, type Problem } from './problem-report.ts';

/** The verdict on one policy file. */
export type PolicyLintResult =
  | { readonly file: string; readonly ok: true; readonly rules: number }
  | { readonly file: string; readonly ok: false; readonly code: string; readonly problems: readonly Problem[] };

/** A problem with the file as a whole (path ''), not with its content. */
function failed(file: string, code: string, message: string): PolicyLintResult {
  return { file, ok: false, code, problems: [{ file, path: '', message }] };
}

/**
 * Reads and loads one policy file with the loader `run` uses
 * (`loadPolicyText`), collecting every problem instead of throwing. `file`
 * is used as given, so messages name the file the way the user wrote it.
 */
export async function lintPolicyFile(file: string): Promise<PolicyLintResult> {
  let text: string;
  try {
    // A FIFO or device would block or never end; a policy is a regular file.
    if (!(await stat(file)).isFile()) return failed(file, 'cli.not_a_file', 'not a regular file');
    text = await readFile(file, 'utf8');
  } catch (err) {
    return failed(file, 'cli.unreadable', `cannot read: ${isSystemError(err) ? systemErrorReason(err) : describeCliError(err)}`);
  }
  try {
    const policy = loadPolicyText(text, file);
    return { file, ok: true, rules: policy.rules.length };
  } catch (err) {
    if (err instanceof PolicyError) return { file, ok: false, code: err.code, problems: policyProblems(err, file) };
    throw err;
  }
}
