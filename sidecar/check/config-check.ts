import { ConfigError, loadConfigText, type Config } from '../config/index.ts';
import { describeError } from '../core/index.ts';
import { fail, ok, skipped, warn, type CheckResult } from './check-result.ts';

/** At most this many problems are spelt out in one check line; the rest are counted. */
const MAX_LISTED = 3;

/** The source name of a configuration made of environment variables alone (as `run` names it). */
export const ENV_SOURCE = '(environment)';

/** The configuration text to check, or why it could not be read. */
export type ConfigInput =
  | { readonly source: string; readonly text: string }
  | { readonly source: string; readonly readError: string };

/** `a; b; c and 2 more`. */
function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join('; ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}

/** Where to correct a configuration read from `source`. */
function fixFor(source: string): string {
  if (source === ENV_SOURCE) return 'pass the configuration file with --config FILE, or set the SPIFFE_SIDECAR_* variables (docs/config.md)';
  return `correct ${source} (docs/config.md); 'spiffe-sidecar run --config ${source}' lists every problem`;
}

/**
 * `config`: the file (and the SPIFFE_SIDECAR_* variables) through the
 * parser `run` uses, so a configuration this passes starts. Returns the
 * Config for the checks that need it; warnings of the parser are a warn.
 */
export function checkConfig(input: ConfigInput, env: Readonly<Record<string, string | undefined>>): { result: CheckResult; config?: Config } {
  const name = 'config';
  if ('readError' in input) {
    return { result: fail(name, `${input.source}: ${input.readError}`, 'pass the configuration file with --config FILE (docs/config.md)') };
  }
  let config: Config;
  try {
    config = loadConfigText(input.text, env, input.source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => `${p.path}: ${p.message}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    return {
      result: fail(name, `${input.source}: ${count}: ${listed(problems)}`, fixFor(input.source)),
    };
  }
  if (config.warnings.length > 0) {
    return { result: warn(name, `${input.source}: valid, with ${listed(config.warnings)}`, 'see docs/config.md for the keys named'), config };
  }
  return { result: ok(name, `${input.source}: valid`), config };
}

/** A policy file's lint verdict, as `spiffe-sidecar policy lint` computes it. */
export type PolicyVerdict =
  | { readonly file: string; readonly ok: true; readonly rules: number }
  | { readonly file: string; readonly ok: false; readonly problems: readonly { readonly path: string; readonly message: string }[] };

/** Lints one policy file (the CLI passes `policy lint`'s own function). */
export type PolicyLinter = (file: string) => Promise<PolicyVerdict>;

/**
 * The policy files the configuration names (HTTP inbound and inbound TCP
 * tunnels, as sidecar/app.ts loads them), each once.
 */
export function policyFilesOf(config: Config): string[] {
  const sources = [...(config.inbound ? [config.inbound.policy] : []), ...config.tcp.flatMap((t) => (t.direction === 'inbound' ? [t.policy] : []))];
  return [...new Set(sources.flatMap((s) => (s.kind === 'file' ? [s.path] : [])))];
}

/** `policy`: every policy file the configuration names, through the loader `run` uses. */
export async function checkPolicies(config: Config | undefined, lint: PolicyLinter): Promise<CheckResult> {
  const name = 'policy';
  if (config === undefined) return skipped(name, 'no usable configuration');
  const files = policyFilesOf(config);
  if (files.length === 0) return ok(name, 'no policy file configured (callers of our own trust domain only)');
  const problems: string[] = [];
  let rules = 0;
  for (const file of files) {
    let verdict: PolicyVerdict;
    try {
      verdict = await lint(file);
    } catch (err) {
      problems.push(`${file}: ${describeError(err)}`);
      continue;
    }
    if (verdict.ok) rules += verdict.rules;
    else problems.push(...verdict.problems.map((p) => (p.path === '' ? `${file}: ${p.message}` : `${file}: ${p.path}: ${p.message}`)));
  }
  if (problems.length > 0) {
    return fail(name, `${problems.length === 1 ? '1 problem' : `${problems.length} problems`}: ${listed(problems)}`, `'spiffe-sidecar policy lint ${files.join(' ')}' lists every problem (docs/policy.md)`);
  }
  return ok(name, `${files.length === 1 ? '1 file' : `${files.length} files`}, ${rules === 1 ? '1 rule' : `${rules} rules`}`);
}
