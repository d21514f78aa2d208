import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { UsageError, type Command } from './io.ts';
import { choiceFlag, parseFlags } from './parse-flags.ts';
import { lintPolicyFile, type PolicyLintResult } from './policy-lint.ts';
import { countProblems, formatProblems, terminalSafe } from './problem-report.ts';

const HELP = `usage: spiffe-sidecar policy lint [--output text|json] FILE...

Checks authorization policy files (docs/policy.md) with the loader the
sidecar uses: YAML syntax, the document's shape, SPIFFE IDs, paths and
methods. Prints one line per problem, FILE: PATH: MESSAGE, with a
did-you-mean for misspelt keys, then a summary.

options:
  --output text|json   text (default) or one JSON document:
                       {"files":[{"file","ok","rules"} | {"file","ok","code","problems":[{"path","message"}]}]}
  -h, --help           show this help

exit status: 0 every file loads, 1 a file has problems or cannot be read,
2 bad usage (70 internal error, as for every command).
`;

/** The `--output json` document. */
export function lintJson(results: readonly PolicyLintResult[]): string {
  const files = results.map((r) =>
    r.ok ? r : { file: r.file, ok: false, code: r.code, problems: r.problems.map((p) => ({ path: p.path, message: p.message })) },
  );
  return `${JSON.stringify({ files })}\n`;
}

/** The text report: problems of each file, `FILE: ok (N rules)` for clean ones, then a summary line. */
export function lintText(results: readonly PolicyLintResult[]): string {
  let out = '';
  let problems = 0;
  let bad = 0;
  for (const r of results) {
    if (r.ok) {
      out += terminalSafe(`${r.file}: ok (${r.rules === 1 ? '1 rule' : `${r.rules} rules`})`) + '\n';
    } else {
      out += formatProblems(r.problems);
      problems += r.problems.length;
      bad++;
    }
  }
  const files = results.length === 1 ? '1 file' : `${results.length} files`;
  out += bad === 0 ? `${files} checked, no problems\n` : `${countProblems(problems)} in ${bad} of ${files}\n`;
  return out;
}

/** `spiffe-sidecar policy lint FILE...`: exit 0 when every file loads, 1 when any has problems, 2 for bad usage. */
export const policyCommand: Command = async (argv, io) => {
  const { values, positionals } = parseFlags(argv, { output: { type: 'string' } }, true);
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const [action, ...files] = positionals;
  if (action === undefined) throw new UsageError('expected a subcommand: lint');
  if (action !== 'lint') throw new UsageError(`unknown subcommand ${JSON.stringify(action)}: expected lint`);
  const output = choiceFlag('--output', values.output, ['text', 'json'], 'text');
  if (files.length === 0) throw new UsageError('lint: name at least one policy file');
  const results: PolicyLintResult[] = [];
  for (const file of files) results.push(await lintPolicyFile(file));
  io.stdout.write(output === 'json' ? lintJson(results) : lintText(results));
  return results.every((r) => r.ok) ? EXIT_OK : EXIT_FAILURE;
};
