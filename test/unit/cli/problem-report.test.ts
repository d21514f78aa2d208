/** Config and policy problems as the CLI prints them: FILE: PATH: MESSAGE, one per line, terminal-safe. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../sidecar/config/index.ts';
import { loadPolicyText, PolicyError } from '../../../sidecar/policy/index.ts';
import { configProblems, countProblems, formatProblems, policyProblems, terminalSafe } from '../../../sidecar/cli/problem-report.ts';

function policyError(text: string, source: string): PolicyError {
  try {
    loadPolicyText(text, source);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

test('policyProblems: the location of each kind of policy problem becomes the path', () => {
  const rows: Array<[string, string, RegExp, string]> = [
    ['version: 1\nrules: [\n', 'policy.syntax', /^line \d+, column \d+$/, 'YAML syntax: line and column'],
    ['a: 1\na: 2\n', 'policy.syntax', /^line 2, column 1$/, 'duplicate key'],
    ['- 1\n', 'policy.invalid', /^\(document\)$/, 'wrong top-level type'],
    ['version: 1\nrules:\n  - name: a\n    from: [{idd: "spiffe://example.org/x"}]\n', 'policy.invalid', /^rules\[0\]\.from\[0\]\.idd$/, 'a dotted path'],
  ];
  for (const [text, code, path, why] of rows) {
    const err = policyError(text, 'dir/p.yaml');
    assert.equal(err.code, code, why);
    const problems = policyProblems(err, 'dir/p.yaml');
    assert.ok(problems.length >= 1, why);
    assert.equal(problems[0]!.file, 'dir/p.yaml', why);
    assert.match(problems[0]!.path, path, why);
    assert.ok(!problems[0]!.message.startsWith('dir/p.yaml'), `${why}: the source is not repeated in the message`);
    assert.ok(!problems[0]!.message.startsWith(':'), why);
  }
});

test('configProblems: file problems name the file, environment problems (environment)', () => {
  const err = new ConfigError('config.invalid', 'sidecar.yaml', [
    { path: 'inbound.listen', message: 'bad' },
    { path: 'env SPIFFE_SIDECAR_LOG_LEVEL', message: 'worse' },
  ]);
  assert.deepEqual(configProblems(err, 'sidecar.yaml'), [
    { file: 'sidecar.yaml', path: 'inbound.listen', message: 'bad' },
    { file: '(environment)', path: 'env SPIFFE_SIDECAR_LOG_LEVEL', message: 'worse' },
  ]);
});

test('formatProblems: one line each, the path left out when the problem is the whole file', () => {
  assert.equal(
    formatProblems([
      { file: 'a.yaml', path: 'rules[0].name', message: 'required' },
      { file: 'b.yaml', path: '', message: 'cannot read: no such file or directory (ENOENT)' },
    ]),
    'a.yaml: rules[0].name: required\nb.yaml: cannot read: no such file or directory (ENOENT)\n',
  );
});

test('terminalSafe: control characters are escaped, printable text is kept', () => {
  const rows: Array<[string, string]> = [
    ['plain: text é ✓', 'plain: text é ✓'],
    ['\u001b[31mred', '\\u001b[31mred'],
    ['a\nb\tc\rd', 'a\\u000ab\\u0009c\\u000dd'],
    ['\u007f\u009b', '\\u007f\\u009b'],
  ];
  for (const [input, want] of rows) assert.equal(terminalSafe(input), want, JSON.stringify(input));
  assert.equal(formatProblems([{ file: 'p.yaml', path: 'rules[0].\u001b]0;x', message: 'm' }]), 'p.yaml: rules[0].\\u001b]0;x: m\n');
});

test('countProblems', () => {
  assert.equal(countProblems(1), '1 problem');
  assert.equal(countProblems(3), '3 problems');
});
