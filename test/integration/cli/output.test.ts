/**
 * What the CLI prints when things go wrong, as real processes on the bundled
 * Node: one line in the CLI's words per failure, no library text or stack
 * traces, a quiet stop when the reader of stdout goes away, and policy and
 * configuration problems as FILE: PATH: MESSAGE lines in `policy lint` and
 * `run`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { cleanEnv, tempDir } from '../../support/sidecar-harness.ts';
import { bin, bundledNode, hasStackTrace, runProcess } from './cli-process.ts';

test('a closed stdout (`| head -1`) stops the command quietly, exit 0', async (t) => {
  const agent = await startDevAgent({ cleanup: t });
  const dir = tempDir(t, 'cli-epipe-');
  const rows: string[][] = [
    ['--help'],
    ['svid', '--socket', agent.address()],
    ['dev-agent', '--trust-domain', 'example.org', '--workload', `${join(dir, 'w.sock')}=spiffe://example.org/w`],
  ];
  for (const args of rows) {
    const r = await runProcess(bundledNode, [bin, ...args], { cleanup: t, closeStdout: true, env: cleanEnv() });
    assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${args[0]}: nothing on stderr (no EPIPE, no stack)`);
  }
});

test('failures are one line in the CLI words with the documented exit status', async (t) => {
  const rows: Array<{ args: string[]; status: number; stderr: RegExp }> = [
    {
      args: ['svid', '--socket', 'unix:///nonexistent/agent.sock', '--timeout', '5s'],
      status: 1,
      stderr: /^spiffe-sidecar svid: cannot reach the Workload API at unix:\/\/\/nonexistent\/agent\.sock: no socket at that path \(.*\)\n$/,
    },
    { args: ['svid'], status: 1, stderr: /^spiffe-sidecar svid: workload: .*SPIFFE_ENDPOINT_SOCKET.*\n$/ },
    { args: ['svid', '--bogus'], status: 2, stderr: /^spiffe-sidecar svid: unknown option --bogus\nrun 'spiffe-sidecar svid --help' for its options\n$/ },
    { args: ['svid', '--timeout'], status: 2, stderr: /^spiffe-sidecar svid: --timeout needs a value/ },
    { args: ['inject', '-f', '/nonexistent/pods.yaml'], status: 1, stderr: /^spiffe-sidecar inject: cannot open \/nonexistent\/pods\.yaml: no such file or directory \(ENOENT\)\n$/ },
    { args: ['run', '--config', '/nonexistent/sidecar.yaml'], status: 2, stderr: /^spiffe-sidecar run: cannot open \/nonexistent\/sidecar\.yaml: no such file or directory \(ENOENT\)\n$/ },
    { args: ['frobnicate'], status: 2, stderr: /^spiffe-sidecar: unknown command "frobnicate"\n/ },
    { args: [], status: 2, stderr: /^usage: spiffe-sidecar <command>[\s\S]*exit status:/ },
  ];
  for (const row of rows) {
    const r = await runProcess(bundledNode, [bin, ...row.args], { cleanup: t, env: cleanEnv() });
    const what = row.args.join(' ') || '(no arguments)';
    assert.equal(r.status, row.status, `${what}: ${r.stderr}`);
    assert.match(r.stderr, row.stderr, what);
    assert.doesNotMatch(r.stderr, /Resolution note|Last error|To specify a positional/, what);
    assert.ok(!hasStackTrace(r.stderr), `${what}: no stack trace`);
    assert.equal(r.stdout, '', what);
  }
});

test('policy lint: exit 0 clean, 1 with problems (one line each), 2 bad usage', async (t) => {
  const dir = tempDir(t, 'cli-lint-');
  writeFileSync(join(dir, 'good.yaml'), 'version: 1\nrules:\n  - name: web\n    from: [{trustDomain: example.org}]\n');
  writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nrules:\n  - name: web\n    from: [{idd: "spiffe://example.org/web"}]\n');
  const lint = (args: string[]) => runProcess(bundledNode, [bin, 'policy', 'lint', ...args], { cleanup: t, cwd: dir });

  const clean = await lint(['good.yaml']);
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal(clean.stdout, 'good.yaml: ok (1 rule)\n1 file checked, no problems\n');

  const bad = await lint(['good.yaml', 'bad.yaml']);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /^good\.yaml: ok \(1 rule\)\nbad\.yaml: rules\[0\]\.from\[0\]\.idd: unknown key[^\n]*\n(bad\.yaml: [^\n]+\n)*\d+ problems? in 1 of 2 files\n$/);

  const json = await lint(['--output', 'json', 'bad.yaml']);
  assert.equal(json.status, 1);
  const doc = JSON.parse(json.stdout) as { files: Array<{ file: string; ok: boolean; problems: Array<{ path: string }> }> };
  assert.equal(doc.files[0]!.file, 'bad.yaml');
  assert.equal(doc.files[0]!.problems[0]!.path, 'rules[0].from[0].idd');

  const usage = await lint([]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^spiffe-sidecar policy: lint: name at least one policy file\n/);
});

test('run: a bad policy file or configuration is printed as lines, nothing starts, exit 2', async (t) => {
  const dir = tempDir(t, 'cli-run-');
  writeFileSync(join(dir, 'bad-policy.yaml'), 'version: 1\nrules:\n  - name: web\n    from: [{idd: "spiffe://example.org/web"}]\n');
  writeFileSync(
    join(dir, 'sidecar.yaml'),
    `spiffe:\n  endpointSocket: unix://${dir}/agent.sock\ninbound:\n  listen: 127.0.0.1:1\n  app: 127.0.0.1:2\n  policyFile: bad-policy.yaml\nadmin:\n  listen: 127.0.0.1:3\n`,
  );
  writeFileSync(join(dir, 'typo.yaml'), `spiffe:\n  endpointSocket: unix://${dir}/agent.sock\ninbound:\n  listen: 127.0.0.1:1\n  app: 127.0.0.1:2\n  polcyFile: x.yaml\n`);
  const run = (config: string) => runProcess(bundledNode, [bin, 'run', '--config', config], { cleanup: t, cwd: dir, env: cleanEnv() });

  const policy = await run('sidecar.yaml');
  assert.equal(policy.status, 2, policy.stdout + policy.stderr);
  assert.equal(policy.stdout, '', 'nothing started, nothing logged');
  assert.match(policy.stderr, /^spiffe-sidecar run: the policy has \d+ problems?; nothing was started:\nbad-policy\.yaml: rules\[0\]\.from\[0\]\.idd: unknown key/);

  const config = await run('typo.yaml');
  assert.equal(config.status, 2, config.stdout + config.stderr);
  assert.equal(config.stdout, '');
  assert.equal(config.stderr, 'spiffe-sidecar run: the configuration has 1 problem; nothing was started:\ntypo.yaml: inbound.polcyFile: unknown key (did you mean "policyFile"?)\n');
});
