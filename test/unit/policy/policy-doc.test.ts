/** The examples in docs/policy.md load, and do what the text says they do. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { evaluate, loadPolicyText, type Decision, type Policy, type PolicyPrincipal } from '../../../sidecar/policy/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

const doc = readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => y.startsWith('version:'));

function example(heading: string): Policy {
  const at = doc.indexOf(`### ${heading}`);
  assert.ok(at >= 0, heading);
  const m = /```yaml\n([\s\S]*?)```/.exec(doc.slice(at));
  return loadPolicyText(m![1]!, heading);
}

const why = (d: Decision): string => (d.allow ? `allowed by ${d.rule}` : `${d.reason}${d.rule === undefined ? '' : ` by ${d.rule}`}`);

test('docs/policy.md: every complete example loads', () => {
  assert.ok(examples.length >= 7, `found ${examples.length}`);
  examples.forEach((y, i) => assert.doesNotThrow(() => loadPolicyText(y, `example ${i}`)));
});

test('docs/policy.md: bank: customers read their own accounts', () => {
  const p = example('A bank: customers read their own accounts');
  const web = SpiffeId.parse('spiffe://bank.example/ns/web/frontend');
  const alice = (claims: Record<string, unknown> = {}): PolicyPrincipal => ({
    issuer: 'https://login.bank.example',
    subject: 'alice',
    clientId: 'web',
    scopes: ['accounts:read'],
    claims: { sub: 'alice', customer_id: '1001', ...claims },
  });
  const get = (path: string, principal?: PolicyPrincipal): string => why(evaluate(p, { peerId: web, method: 'GET', path, principal }));
  assert.equal(get('/customers/1001/accounts/7', alice()), 'allowed by customer-reads-own-accounts');
  assert.equal(get('/customers/1001/accounts', alice()), 'allowed by customer-reads-own-accounts');
  assert.equal(get('/customers/1002/accounts/7', alice()), 'no_matching_rule');
  assert.equal(get('/customers/1001/accounts/7'), 'principal_required by customer-reads-own-accounts');
  assert.equal(get('/customers/1001/accounts/7', alice({ fraud: { blocked: true } })), 'denied_by_rule by blocked-customers');
  const support = SpiffeId.parse('spiffe://bank.example/ns/support/console');
  const agent: PolicyPrincipal = { issuer: 'https://login.bank.example', subject: 'sam', clientId: 'support-console', scopes: [], claims: { 'https://bank.example/roles': ['support-agent'] } };
  assert.equal(why(evaluate(p, { peerId: support, method: 'GET', path: '/customers/1002/accounts/7/history', principal: agent })), 'allowed by support-reads-any-account');
});

test('docs/policy.md: remote addresses only through the edge', () => {
  const p = example('Remote addresses only through the edge');
  const gateway = SpiffeId.parse('spiffe://bank.example/ns/edge/gateway');
  const other = SpiffeId.parse('spiffe://bank.example/ns/web/frontend');
  const call = (peerId: SpiffeId, path: string, forwardedFor: string[]): string => why(evaluate(p, { peerId, method: 'GET', path, forwardedFor }));
  assert.equal(call(gateway, '/partner-api/x', ['192.0.2.99', '198.51.100.7']), 'allowed by partners-from-their-networks');
  assert.equal(call(gateway, '/partner-api/x', ['198.51.100.7', '192.0.2.99']), 'denied_by_rule by abusive-network');
  assert.equal(call(gateway, '/admin', ['198.51.100.7']), 'no_matching_rule');
  assert.equal(call(other, '/partner-api/x', ['198.51.100.7']), 'caller_not_listed');
});

test('docs/policy.md: rolling out a deny rule with a dry run', () => {
  const p = example('Rolling out a deny rule with a dry run');
  const d = evaluate(p, { peerId: SpiffeId.parse('spiffe://bank.example/jobs/x'), method: 'POST', path: '/reports/export' });
  assert.equal(why(d), 'allowed by reporting');
  assert.deepEqual(d.dryRun, [{ rule: 'no-bulk-export', outcome: 'would_deny' }]);
});
