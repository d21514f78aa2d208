import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError, evaluate, loadPolicyText, type PolicyErrorCode } from '../../../sidecar/policy/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

const VALID = `# frontend may read the API
version: 1
rules:
  - name: frontend-reads
    from:
      - id: spiffe://example.org/frontend
    to:
      - paths: [/api/]
        methods: [GET]
`;

function failure(text: string): { code: PolicyErrorCode; problems: readonly string[] } {
  try {
    loadPolicyText(text, 'policy.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected PolicyError, got ${String(err)}`);
    return { code: err.code, problems: err.problems };
  }
  assert.fail('expected loadPolicyText to throw');
}

/** A document whose aliases expand past the limit ("billion laughs"). */
function aliasBomb(): string {
  let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 6; i++) {
    const refs = Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ');
    text += `a${i}: &a${i} [${refs}]\n`;
  }
  return text + 'version: 1\nrules: []\n';
}

test('loadPolicyText: loads YAML', () => {
  const p = loadPolicyText(VALID, 'policy.yaml');
  const d = evaluate(p, { peerId: SpiffeId.parse('spiffe://example.org/frontend'), method: 'GET', path: '/api/x' });
  assert.deepEqual(d, { allow: true, rule: 'frontend-reads', forwardTarget: '/api/x', dryRun: [] });
});

test('loadPolicyText: loads JSON', () => {
  const p = loadPolicyText('{"version":1,"rules":[{"name":"a","from":[{"trustDomain":"td"}]}]}', 'policy.json');
  assert.equal(p.rules.length, 1);
});

const rows: { name: string; text: string; code: PolicyErrorCode; problem: RegExp }[] = [
  { name: 'syntax error names line and column', text: 'version: 1\nrules: [\n  - x\n', code: 'policy.syntax', problem: /^policy\.yaml:\d+:\d+: / },
  { name: 'duplicate key', text: 'version: 1\nversion: 1\nrules: []\n', code: 'policy.syntax', problem: /^policy\.yaml:2:1: Map keys must be unique$/ },
  { name: 'several documents', text: 'version: 1\nrules: []\n---\nversion: 1\n', code: 'policy.syntax', problem: /^policy\.yaml:3:1: .*multiple documents/ },
  { name: 'unknown tag (a warning) is an error', text: 'version: 1\nrules: !whatever []\n', code: 'policy.syntax', problem: /^policy\.yaml:2:8: / },
  { name: 'alias expansion limit', text: aliasBomb(), code: 'policy.syntax', problem: /^policy\.yaml: .*alias/i },
  { name: 'empty text is an invalid document', text: '', code: 'policy.invalid', problem: /^\(document\): .* got null$/ },
  { name: 'YAML 1.1 booleans stay strings', text: 'version: 1\nrules: yes\n', code: 'policy.invalid', problem: /^rules: expected a list, got string "yes"$/ },
  { name: 'merge keys are not merged', text: 'version: 1\nrules:\n  - <<: {name: a}\n    from: [{trustDomain: td}]\n', code: 'policy.invalid', problem: /^rules\[0\]\.<<: unknown key|^rules\[0\]\."<<": unknown key/ },
];
for (const row of rows) {
  test(`loadPolicyText: ${row.name}`, () => {
    const got = failure(row.text);
    assert.equal(got.code, row.code);
    assert.match(got.problems[0] ?? '', row.problem, JSON.stringify(got.problems));
  });
}
