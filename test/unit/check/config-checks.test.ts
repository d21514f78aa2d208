import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig, checkPolicies, checkWebhookCert, ENV_SOURCE, type PolicyVerdict } from '../../../sidecar/check/index.ts';
import type { Config } from '../../../sidecar/config/index.ts';
import { toPem } from '../../../sidecar/x509/index.ts';
import { HOUR, T0, makeRoot } from '../../support/certs.ts';

const SOCKET = 'spiffe:\n  endpointSocket: unix:///run/agent.sock\n';
const WITH_POLICY = `${SOCKET}inbound:\n  app: 127.0.0.1:8080\n  policyFile: /etc/p.yaml\n`;

function config(text: string): Config {
  const { config: c } = checkConfig({ source: 'sidecar.yaml', text }, {});
  assert.ok(c);
  return c;
}

const configRows: { name: string; text?: string; readError?: string; source?: string; status: string; detail: RegExp; fix?: RegExp }[] = [
  { name: 'a valid file', text: `${SOCKET}inbound:\n  app: 127.0.0.1:8080\n`, status: 'ok', detail: /sidecar\.yaml: valid$/ },
  { name: 'a valid file with a parser warning', text: SOCKET, status: 'warn', detail: /valid, with no proxy is configured/ },
  { name: 'an unknown key, with did-you-mean', text: `${SOCKET}inbund: {}\n`, status: 'fail', detail: /1 problem: inbund/, fix: /run --config sidecar\.yaml/ },
  { name: 'YAML syntax', text: 'spiffe: [\n', status: 'fail', detail: /line \d+, column \d+/ },
  { name: 'an unreadable file', readError: 'cannot read: no such file or directory (ENOENT)', status: 'fail', detail: /ENOENT/, fix: /--config FILE/ },
  { name: 'the environment alone, incomplete', text: '', source: ENV_SOURCE, status: 'fail', detail: /endpointSocket/, fix: /SPIFFE_SIDECAR_\*/ },
];
for (const row of configRows) {
  test(`config: ${row.name}`, () => {
    const source = row.source ?? 'sidecar.yaml';
    const input = row.readError !== undefined ? { source, readError: row.readError } : { source, text: row.text! };
    const { result, config: c } = checkConfig(input, {});
    assert.equal(result.status, row.status, result.detail);
    assert.match(result.detail, row.detail);
    if (row.fix) assert.match(result.fix, row.fix);
    assert.equal(c === undefined, row.status === 'fail');
  });
}

const lintAs =
  (verdict: PolicyVerdict | Error) =>
  async (file: string): Promise<PolicyVerdict> => {
    if (verdict instanceof Error) throw verdict;
    return { ...verdict, file };
  };
test('policy: ok without a policy file', async () => {
  const r = await checkPolicies(config(SOCKET), lintAs(new Error('must not be called')));
  assert.equal(r.status, 'ok');
});
test('policy: ok counting the rules of the configured file', async () => {
  const r = await checkPolicies(config(WITH_POLICY), lintAs({ file: '', ok: true, rules: 3 }));
  assert.equal(r.status, 'ok');
  assert.match(r.detail, /1 file, 3 rules/);
});
test('policy: fails with the linter\'s problems and points to policy lint', async () => {
  const r = await checkPolicies(config(WITH_POLICY), lintAs({ file: '', ok: false, problems: [{ path: 'rules[0].from', message: 'unknown key' }] }));
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /\/etc\/p\.yaml: rules\[0\]\.from: unknown key/);
  assert.match(r.fix, /policy lint \/etc\/p\.yaml/);
});
test('policy: is skipped (warn) without a configuration', async () => {
  assert.equal((await checkPolicies(undefined, lintAs(new Error('x')))).status, 'warn');
});

// makeRoot's certificate is valid T0−1h..T0+24h.
const pem = toPem(makeRoot('example.org').der, 'CERTIFICATE');
const longLived = toPem(makeRoot('example.org', { notAfter: new Date(T0 + 90 * 24 * HOUR) }).der, 'CERTIFICATE');
const webhookRows: { name: string; pem?: string; readError?: string; now: number; status: string; detail: RegExp }[] = [
  { name: 'valid, more than 30 days left', pem: longLived, now: T0, status: 'ok', detail: /expires in 90d/ },
  { name: 'not valid yet', pem, now: T0 - 2 * HOUR, status: 'fail', detail: /valid only from/ },
  { name: 'expires within 30 days', pem, now: T0, status: 'warn', detail: /expires in 1d/ },
  { name: 'expired', pem, now: T0 + 48 * HOUR, status: 'fail', detail: /expired 1d ago/ },
  { name: 'not a certificate', pem: 'hello', now: T0, status: 'fail', detail: /no CERTIFICATE block/ },
  { name: 'unreadable', readError: 'cannot read: permission denied (EACCES)', now: T0, status: 'fail', detail: /EACCES/ },
];
for (const row of webhookRows) {
  test(`webhook-cert: ${row.name}`, () => {
    const input = row.readError !== undefined ? { file: 'tls.crt', readError: row.readError } : { file: 'tls.crt', pem: row.pem! };
    const r = checkWebhookCert(input, row.now);
    assert.equal(r.status, row.status, r.detail);
    assert.match(r.detail, row.detail);
  });
}
