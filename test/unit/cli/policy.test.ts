/** `spiffe-sidecar policy lint` in-process: exit statuses, text and JSON reports. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../sidecar/cli/io.ts';
import { policyCommand } from '../../../sidecar/cli/policy.ts';
import { lintPolicyFile } from '../../../sidecar/cli/policy-lint.ts';
import { fakeIo } from './fake-io.ts';

let dir: string;
const f = (name: string): string => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-lint-'));
  writeFileSync(f('good.yaml'), 'version: 1\nrules:\n  - name: frontend\n    from: [{id: "spiffe://example.org/frontend"}]\n  - name: td\n    from: [{trustDomain: example.org}]\n');
  writeFileSync(f('bad.yaml'), 'version: 1\nrules:\n  - name: a\n    from: [{idd: "spiffe://example.org/x"}]\n');
  writeFileSync(f('syntax.yaml'), 'version: 1\nrules: [\n');
  mkdirSync(f('a-directory'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('lintPolicyFile: one row per outcome', async () => {
  const good = await lintPolicyFile(f('good.yaml'));
  assert.deepEqual(good, { file: f('good.yaml'), ok: true, rules: 2 });
  const rows: Array<[string, string, RegExp]> = [
    ['bad.yaml', 'policy.invalid', /^rules\[0\]\.from\[0\]\.idd$/],
    ['syntax.yaml', 'policy.syntax', /^line \d+, column \d+$/],
    ['missing.yaml', 'cli.unreadable', /^$/],
    ['a-directory', 'cli.not_a_file', /^$/],
  ];
  for (const [name, code, path] of rows) {
    const r = await lintPolicyFile(f(name));
    assert.equal(r.ok, false, name);
    if (r.ok) continue;
    assert.equal(r.code, code, name);
    assert.equal(r.problems[0]!.file, f(name), name);
    assert.match(r.problems[0]!.path, path, name);
  }
});

test('text: a line per problem, ok lines, a summary; exit 1 when any file has problems', async () => {
  const io = fakeIo();
  assert.equal(await policyCommand(['lint', f('good.yaml'), f('bad.yaml'), f('missing.yaml')], io), 1);
  const lines = io.out().trimEnd().split('\n');
  assert.equal(lines[0], `${f('good.yaml')}: ok (2 rules)`);
  assert.ok(lines.some((l) => l.startsWith(`${f('bad.yaml')}: rules[0].from[0].idd: unknown key`)), io.out());
  assert.ok(lines.includes(`${f('missing.yaml')}: cannot read: no such file or directory (ENOENT)`), io.out());
  assert.match(lines.at(-1)!, /^\d+ problems in 2 of 3 files$/);
  assert.equal(io.err(), '');
});

test('text: exit 0 and a clean summary when every file loads', async () => {
  const io = fakeIo();
  assert.equal(await policyCommand(['lint', f('good.yaml')], io), 0);
  assert.equal(io.out(), `${f('good.yaml')}: ok (2 rules)\n1 file checked, no problems\n`);
});

test('--output json: one document with every file', async () => {
  const io = fakeIo();
  assert.equal(await policyCommand(['lint', '--output', 'json', f('good.yaml'), f('syntax.yaml')], io), 1);
  const doc = JSON.parse(io.out()) as { files: Array<Record<string, unknown>> };
  assert.deepEqual(doc.files[0], { file: f('good.yaml'), ok: true, rules: 2 });
  const bad = doc.files[1]!;
  assert.deepEqual(Object.keys(bad), ['file', 'ok', 'code', 'problems']);
  assert.equal(bad['code'], 'policy.syntax');
  const problems = bad['problems'] as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(problems[0]!), ['path', 'message']);
});

test('bad usage is a UsageError (exit 2)', async () => {
  const rows: Array<[string[], RegExp]> = [
    [[], /expected a subcommand: lint/],
    [['check', 'a.yaml'], /unknown subcommand "check"/],
    [['lint'], /at least one policy file/],
    [['lint', '--output', 'xml', 'a.yaml'], /--output: "xml"/],
    [['lint', '--frob', 'a.yaml'], /unknown option --frob/],
  ];
  for (const [args, message] of rows) {
    await assert.rejects(policyCommand(args, fakeIo()), (e: unknown) => e instanceof UsageError && message.test(e.message), args.join(' '));
  }
});
