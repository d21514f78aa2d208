import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowAll,
  ALLOW_ALL_RULE,
  evaluate,
  explain,
  parsePolicy,
  sameTrustDomainPolicy,
  type EntryExplanation,
  type ExplainOutcome,
  type Explanation,
  type Policy,
  type PolicyPrincipal,
  type PolicyRequest,
} from '../../../sidecar/policy/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';

const WEB = 'spiffe://bank.example/ns/web/frontend';
const EDGE = 'spiffe://bank.example/edge';
const BATCH = 'spiffe://bank.example/batch';
const CANARY = 'spiffe://bank.example/canary';
const OTHER_TD = 'spiffe://partner.example/api';
const ISS = 'https://idp.example';

/** Each allow rule has its own path, so a row exercises one condition. */
const policy = parsePolicy(
  {
    version: 2,
    remoteAddress: { trustedCallers: [EDGE], trustedHops: 1 },
    rules: [
      { name: 'by-id', from: [{ id: WEB }], to: [{ paths: ['/id'], methods: ['GET'] }] },
      { name: 'by-prefix', from: [{ idPrefix: 'spiffe://bank.example/ns/web/*' }], to: [{ pathPrefixes: ['/prefix'] }] },
      { name: 'by-td', from: [{ trustDomain: 'partner.example' }], to: [{ paths: ['/td'] }] },
      { name: 'principal', from: [{ id: WEB, principals: [`${ISS}/alice`] }], to: [{ paths: ['/principal'] }] },
      { name: 'client', from: [{ id: WEB, clients: ['mobile-app'] }], to: [{ paths: ['/client'] }] },
      { name: 'claim', from: [{ id: WEB, claims: [{ claim: 'tier', equals: 'gold' }] }], to: [{ paths: ['/claim'] }] },
      { name: 'ip', from: [{ id: WEB, ipBlocks: ['10.1.0.0/16'] }], to: [{ paths: ['/ip'] }] },
      { name: 'remote', from: [{ remoteIpBlocks: ['198.51.100.0/24'] }], to: [{ paths: ['/remote'] }] },
      { name: 'own-accounts', from: [{ id: WEB }], to: [{ pathTemplates: ['/customers/{claims.customer_id}/accounts/*'], methods: ['GET'] }] },
      { name: 'batch', from: [{ id: BATCH }] },
      { name: 'deny-batch-admin', action: 'deny', from: [{ id: BATCH }], to: [{ pathPrefixes: ['/admin'] }] },
      { name: 'try-deny-reports', action: 'deny', dryRun: true, from: [{ id: BATCH }], to: [{ pathPrefixes: ['/reports'] }] },
      { name: 'try-allow-canary', dryRun: true, from: [{ id: CANARY }], to: [{ paths: ['/canary'] }] },
    ],
  },
  'explain-test',
);

function user(claims: Record<string, unknown> = {}, over: Partial<PolicyPrincipal> = {}): PolicyPrincipal {
  return { issuer: ISS, subject: 'alice', clientId: 'web-app', scopes: [], claims: { sub: 'alice', ...claims }, ...over };
}

function req(peer: string, method?: string, path?: string, more: Omit<PolicyRequest, 'peerId' | 'method' | 'path'> = {}): PolicyRequest {
  return { peerId: SpiffeId.parse(peer), ...(method === undefined ? {} : { method }), ...(path === undefined ? {} : { path }), ...more };
}

/** Requests touching every outcome: allow, each deny reason, dry runs, TCP, bad paths. */
const REQUESTS: Array<[string, Policy, PolicyRequest]> = [
  ['allowed by id', policy, req(WEB, 'GET', '/id')],
  ['method refused', policy, req(WEB, 'POST', '/id')],
  ['prefix', policy, req('spiffe://bank.example/ns/web/other', 'GET', '/prefix/x')],
  ['trust domain', policy, req(OTHER_TD, 'GET', '/td')],
  ['unknown caller', policy, req('spiffe://bank.example/nobody', 'GET', '/id')],
  ['principal required', policy, req(WEB, 'GET', '/principal')],
  ['principal ok', policy, req(WEB, 'GET', '/principal', { principal: user() })],
  ['principal wrong', policy, req(WEB, 'GET', '/principal', { principal: user({}, { subject: 'bob' }) })],
  ['client wrong', policy, req(WEB, 'GET', '/client', { principal: user() })],
  ['claim ok', policy, req(WEB, 'GET', '/claim', { principal: user({ tier: 'gold' }) })],
  ['claim wrong', policy, req(WEB, 'GET', '/claim', { principal: user({ tier: 'silver' }) })],
  ['ip ok', policy, req(WEB, 'GET', '/ip', { peerAddress: '10.1.2.3' })],
  ['ip wrong', policy, req(WEB, 'GET', '/ip', { peerAddress: '10.2.0.1' })],
  ['remote ok', policy, req(EDGE, 'GET', '/remote', { peerAddress: '10.0.0.1', forwardedFor: ['198.51.100.7'] })],
  ['remote untrusted', policy, req(WEB, 'GET', '/remote', { forwardedFor: ['198.51.100.7'] })],
  ['template ok', policy, req(WEB, 'GET', '/customers/42/accounts/a1', { principal: user({ customer_id: '42' }) })],
  ['template binding', policy, req(WEB, 'GET', '/customers/42/accounts/a1', { principal: user({ customer_id: '43' }) })],
  ['template needs token', policy, req(WEB, 'GET', '/customers/42/accounts/a1')],
  ['deny wins', policy, req(BATCH, 'GET', '/admin/users')],
  ['dry runs', policy, req(BATCH, 'GET', '/reports/q1')],
  ['dry-run allow only', policy, req(CANARY, 'GET', '/canary')],
  ['tcp', policy, req(BATCH)],
  ['tcp refused', policy, req(WEB)],
  ['bad path', policy, req(WEB, 'GET', '/a/%2F/b')],
  ['normalised', policy, req(WEB, 'GET', '/x/../id?q=1')],
  ['allow all', allowAll, req(WEB, 'GET', '/any')],
  ['same trust domain', sameTrustDomainPolicy(TrustDomain.parse('bank.example')), req(WEB, 'GET', '/any')],
  ['same trust domain refused', sameTrustDomainPolicy(TrustDomain.parse('bank.example')), req(OTHER_TD, 'GET', '/any')],
];

const RANK: Record<ExplainOutcome, number> = { no_match: 0, needs_principal: 1, match: 2 };

/** The best outcome among entries: one matching entry is enough. */
function best(entries: readonly EntryExplanation<string>[]): ExplainOutcome {
  let out: ExplainOutcome = 'no_match';
  for (const e of entries) if (RANK[e.outcome] > RANK[out]) out = e.outcome;
  return out;
}

/** Checks that the per-rule explanation is self-consistent and implies the decision evaluate made. */
function assertConsistent(name: string, e: Explanation, isHttp: boolean): void {
  for (const r of e.rules) {
    if (r.outcome === 'not_evaluated') continue;
    assert.equal(r.matched, r.outcome === 'match', `${name}: ${r.name} matched`);
    assert.equal(r.why.length === 0, r.matched, `${name}: ${r.name} why ${JSON.stringify(r.why)}`);
    for (const entry of [...r.from, ...(r.to ?? [])]) {
      assert.equal(entry.failed.length === 0, entry.outcome === 'match', `${name}: ${r.name} entry ${entry.index}`);
    }
    const from = best(r.from);
    const to = r.to === null ? 'match' : best(r.to);
    const combined = from === 'no_match' || to === 'no_match' ? 'no_match' : from === 'match' && to === 'match' ? 'match' : 'needs_principal';
    assert.equal(r.outcome, combined, `${name}: ${r.name} outcome from its entries`);
  }
  const d = e.decision;
  const enforced = e.rules.filter((r) => !r.dryRun);
  const deny = enforced.find((r) => r.action === 'deny' && r.matched);
  const allow = enforced.find((r) => r.action === 'allow' && r.matched);
  const wants = enforced.find((r) => r.action === 'allow' && r.outcome === 'needs_principal');
  if (e.rules.some((r) => r.outcome === 'not_evaluated')) assert.equal(d.allow ? '' : d.reason, 'bad_path', name);
  else if (deny) assert.deepEqual([d.allow, d.rule], [false, deny.name], name);
  else if (allow) assert.deepEqual([d.allow, d.rule], [true, allow.name], name);
  else if (wants && isHttp) assert.deepEqual([d.allow, d.allow ? '' : d.reason, d.rule], [false, 'principal_required', wants.name], name);
  else if (e.rules.length > 0) assert.equal(d.allow, false, name);
  const decided = e.rules.filter((r) => r.decided).map((r) => r.name);
  assert.deepEqual(decided, d.rule === undefined || d.rule === ALLOW_ALL_RULE ? [] : [d.rule], `${name}: decided`);
  const dry = e.rules.filter((r) => r.dryRun && r.matched).map((r) => ({ rule: r.name, outcome: r.action === 'deny' ? 'would_deny' : 'would_allow' }));
  assert.deepEqual(dry, [...d.dryRun], `${name}: dry runs`);
}

test('explain: decides exactly as evaluate does, and its rule outcomes imply that decision', () => {
  for (const [name, p, r] of REQUESTS) {
    const e = explain(p, r);
    assert.deepEqual(e.decision, evaluate(p, r), name);
    assertConsistent(name, e, r.method !== undefined || r.path !== undefined);
  }
});

test('explain: names the failing condition: one row per from key and to condition', () => {
  const rows: Array<[string, PolicyRequest, string, string, 'no_match' | 'needs_principal', RegExp]> = [
    ['id', req(BATCH, 'GET', '/id'), 'by-id', 'from[0].id', 'no_match', /peer spiffe:\/\/bank\.example\/batch is not spiffe:\/\/bank\.example\/ns\/web\/frontend/],
    ['idPrefix', req(BATCH, 'GET', '/prefix'), 'by-prefix', 'from[0].idPrefix', 'no_match', /is not under spiffe:\/\/bank\.example\/ns\/web\/\*/],
    ['trustDomain', req(WEB, 'GET', '/td'), 'by-td', 'from[0].trustDomain', 'no_match', /trust domain bank\.example is not partner\.example/],
    ['principals', req(WEB, 'GET', '/principal', { principal: user({}, { subject: 'bob' }) }), 'principal', 'from[0].principals', 'no_match', /user "https:\/\/idp\.example\/bob" is not one of/],
    ['principals without token', req(WEB, 'GET', '/principal'), 'principal', 'from[0].principals', 'needs_principal', /needs an end-user token/],
    ['clients', req(WEB, 'GET', '/client', { principal: user() }), 'client', 'from[0].clients', 'no_match', /client "web-app" is not one of \[mobile-app\]/],
    ['claims', req(WEB, 'GET', '/claim', { principal: user({ tier: 'silver' }) }), 'claim', 'from[0].claims', 'no_match', /claim tier is "silver"; the rule needs it equals "gold"/],
    ['ipBlocks', req(WEB, 'GET', '/ip', { peerAddress: '10.2.0.1' }), 'ip', 'from[0].ipBlocks', 'no_match', /peer address 10\.2\.0\.1 is not in \[10\.1\.0\.0\/16\]/],
    ['ipBlocks without address', req(WEB, 'GET', '/ip'), 'ip', 'from[0].ipBlocks', 'no_match', /no peer address/],
    ['remoteIpBlocks untrusted', req(WEB, 'GET', '/remote', { forwardedFor: ['198.51.100.7'] }), 'remote', 'from[0].remoteIpBlocks', 'no_match', /not in remoteAddress\.trustedCallers/],
    ['remoteIpBlocks outside', req(EDGE, 'GET', '/remote', { forwardedFor: ['192.0.2.1'] }), 'remote', 'from[0].remoteIpBlocks', 'no_match', /client address 192\.0\.2\.1 is not in/],
    ['remoteIpBlocks short list', req(EDGE, 'GET', '/remote'), 'remote', 'from[0].remoteIpBlocks', 'no_match', /lists 0 forwarded addresses; remoteAddress\.trustedHops needs at least 1/],
    ['methods', req(WEB, 'POST', '/id'), 'by-id', 'to[0].methods', 'no_match', /method "POST" is not one of \[GET\]/],
    ['paths', req(WEB, 'GET', '/other'), 'by-id', 'to[0].paths', 'no_match', /path \/other is not one of \[\/id\]/],
    ['pathPrefixes', req('spiffe://bank.example/ns/web/x', 'GET', '/prefixes'), 'by-prefix', 'to[0].pathPrefixes', 'no_match', /path \/prefixes is not under \[\/prefix\]/],
    ['pathTemplates', req(WEB, 'GET', '/customers/42/cards/1'), 'own-accounts', 'to[0].pathTemplates', 'no_match', /does not fit template/],
    ['templateBinding', req(WEB, 'GET', '/customers/42/accounts/a', { principal: user({ customer_id: '43' }) }), 'own-accounts', 'to[0].templateBinding', 'no_match', /claim-bound segment does not equal/],
    ['templateBinding without token', req(WEB, 'GET', '/customers/42/accounts/a'), 'own-accounts', 'to[0].templateBinding', 'needs_principal', /needs an end-user token/],
    ['tcp to', req(WEB), 'by-id', 'to[0].methods', 'no_match', /no method \(a TCP connection\)/],
  ];
  for (const [name, r, rule, at, outcome, why] of rows) {
    const x = explain(policy, r).rules.find((y) => y.name === rule)!;
    assert.equal(x.matched, false, name);
    const line = x.why.find((w) => w.startsWith(`${at}: `));
    assert.ok(line, `${name}: ${JSON.stringify(x.why)}`);
    assert.match(line, why, name);
    const [list, index, key] = /^(from|to)\[(\d+)\]\.(\w+)$/.exec(at)!.slice(1) as [string, string, string];
    const entry = (list === 'from' ? x.from : x.to!)[Number(index)]!;
    assert.deepEqual(
      entry.failed.filter((f) => f.key === key).map((f) => f.outcome),
      [outcome],
      name,
    );
  }
});

test('explain: lists only the failing conditions: a matched from entry is not blamed when the to entry fails', () => {
  const x = explain(policy, req(WEB, 'POST', '/id')).rules.find((r) => r.name === 'by-id')!;
  assert.deepEqual(x.why, ['to[0].methods: method "POST" is not one of [GET]']);
  assert.equal(x.from[0]!.outcome, 'match');
});

test('explain: reports the normalised path and the resolved client address', () => {
  const e = explain(policy, req(EDGE, 'GET', '/a/./b//../remote?x=1', { forwardedFor: ['203.0.113.9', '198.51.100.7'] }));
  assert.equal(e.path, '/a/remote');
  assert.equal(e.remoteAddress, '198.51.100.7');
  assert.equal(explain(policy, req(WEB)).path, undefined, 'TCP has no path');
});

test('explain: marks the deciding rule: the deny rule over a matching allow rule, the rule needing a token', () => {
  const denied = explain(policy, req(BATCH, 'GET', '/admin/x'));
  assert.deepEqual(denied.rules.filter((r) => r.decided).map((r) => r.name), ['deny-batch-admin']);
  assert.equal(denied.rules.find((r) => r.name === 'batch')!.matched, true, 'the allow rule matched and lost');
  const needs = explain(policy, req(WEB, 'GET', '/claim'));
  assert.deepEqual(needs.rules.filter((r) => r.decided).map((r) => [r.name, r.outcome]), [['claim', 'needs_principal']]);
});

test('explain: a refused path evaluates no rule', () => {
  const e = explain(policy, req(WEB, 'GET', '/a;b'));
  assert.equal(e.decision.allow, false);
  assert.ok(e.rules.length > 0 && e.rules.every((r) => r.outcome === 'not_evaluated' && !r.matched));
});

test('explain: dry-run rules report whether they would apply, without deciding', () => {
  const e = explain(policy, req(BATCH, 'GET', '/reports/q1'));
  const dry = e.rules.find((r) => r.name === 'try-deny-reports')!;
  assert.deepEqual([dry.matched, dry.decided, dry.dryRun], [true, false, true]);
  assert.equal(e.decision.allow, true);
});
