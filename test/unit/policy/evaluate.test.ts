import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALLOW_ALL_RULE,
  DENY_REASONS,
  SAME_TRUST_DOMAIN_RULE,
  allowAll,
  evaluate,
  parsePolicy,
  sameTrustDomainPolicy,
  type Decision,
  type DenyReason,
} from '../../../sidecar/policy/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';

const policy = parsePolicy(
  {
    version: 1,
    rules: [
      {
        name: 'frontend-api',
        from: [{ id: 'spiffe://example.org/frontend' }],
        to: [{ paths: ['/api/', '/healthz'], methods: ['GET', 'HEAD'] }],
      },
      { name: 'payments', from: [{ idPrefix: 'spiffe://example.org/ns/payments/*' }], to: [{ pathPrefixes: ['/pay'] }] },
      { name: 'partner-reports', from: [{ trustDomain: 'partner.org' }], to: [{ paths: ['/reports'], methods: ['POST'] }] },
      { name: 'db-tcp', from: [{ id: 'spiffe://example.org/db-client' }] },
      { name: 'cache-purge', from: [{ id: 'spiffe://example.org/cache' }], to: [{ methods: ['PURGE'] }] },
    ],
  },
  'evaluate.test',
);

const FRONTEND = 'spiffe://example.org/frontend';
const PAY = 'spiffe://example.org/ns/payments/api';

type Row = {
  name: string;
  peer: string;
  method?: string;
  path?: string;
  rule?: string;
  forward?: string;
  deny?: DenyReason;
};

const rows: Row[] = [
  // Exact caller, exact and prefix paths, methods.
  { name: 'exact caller, prefix path', peer: FRONTEND, method: 'GET', path: '/api/items', rule: 'frontend-api' },
  { name: "prefix '/api/' includes '/api/' itself", peer: FRONTEND, method: 'GET', path: '/api/', rule: 'frontend-api' },
  { name: "prefix '/api/' does not match '/api'", peer: FRONTEND, method: 'GET', path: '/api', deny: 'no_matching_rule' },
  { name: "prefix '/api/' does not match '/apix'", peer: FRONTEND, method: 'GET', path: '/apix', deny: 'no_matching_rule' },
  { name: 'exact path', peer: FRONTEND, method: 'GET', path: '/healthz', rule: 'frontend-api' },
  { name: 'exact path is not a prefix', peer: FRONTEND, method: 'GET', path: '/healthz/x', deny: 'no_matching_rule' },
  { name: 'exact path is not a string prefix', peer: FRONTEND, method: 'GET', path: '/healthzx', deny: 'no_matching_rule' },
  { name: 'second listed method', peer: FRONTEND, method: 'HEAD', path: '/api/x', rule: 'frontend-api' },
  { name: 'method not listed', peer: FRONTEND, method: 'POST', path: '/api/x', deny: 'no_matching_rule' },
  { name: 'methods are case-sensitive', peer: FRONTEND, method: 'get', path: '/api/x', deny: 'no_matching_rule' },
  { name: 'paths are case-sensitive', peer: FRONTEND, method: 'GET', path: '/API/x', deny: 'no_matching_rule' },
  { name: 'method missing where the rule lists methods', peer: FRONTEND, path: '/api/x', deny: 'no_matching_rule' },

  // Normalisation happens before matching, and decides what is forwarded.
  { name: 'query ignored for matching, forwarded', peer: FRONTEND, method: 'GET', path: '/api/x?q=1#f', rule: 'frontend-api', forward: '/api/x?q=1' },
  { name: 'dot-dot into the prefix allowed, normalised path forwarded', peer: FRONTEND, method: 'GET', path: '/admin/../api/x', rule: 'frontend-api', forward: '/api/x' },
  { name: 'dot-dot out of the prefix denied', peer: FRONTEND, method: 'GET', path: '/api/../admin', deny: 'no_matching_rule' },
  { name: 'encoded dot-dot out of the prefix denied', peer: FRONTEND, method: 'GET', path: '/api/%2e%2e/admin', deny: 'no_matching_rule' },
  { name: 'double slash merged before matching', peer: FRONTEND, method: 'GET', path: '//healthz', rule: 'frontend-api', forward: '/healthz' },
  { name: 'encoded slash is a bad path', peer: FRONTEND, method: 'GET', path: '/api%2F..%2Fadmin', deny: 'bad_path' },
  { name: 'bad path wins over an unknown caller', peer: 'spiffe://nobody.org/x', method: 'GET', path: '/a;b', deny: 'bad_path' },

  // ID prefixes on segment boundaries.
  { name: "idPrefix matches one level below", peer: PAY, method: 'GET', path: '/pay', rule: 'payments' },
  { name: 'idPrefix matches deeper', peer: 'spiffe://example.org/ns/payments/a/b', method: 'GET', path: '/pay', rule: 'payments' },
  { name: "idPrefix does not match '.../paymentsX'", peer: 'spiffe://example.org/ns/paymentsX', method: 'GET', path: '/pay', deny: 'caller_not_listed' },
  { name: 'idPrefix does not match the prefix ID itself', peer: 'spiffe://example.org/ns/payments', method: 'GET', path: '/pay', deny: 'caller_not_listed' },
  { name: 'idPrefix is bound to its trust domain', peer: 'spiffe://example.org.evil/ns/payments/x', method: 'GET', path: '/pay', deny: 'caller_not_listed' },

  // Path prefixes without a trailing slash.
  { name: "pathPrefix '/pay' matches '/pay/1'", peer: PAY, method: 'DELETE', path: '/pay/1', rule: 'payments' },
  { name: "pathPrefix '/pay' does not match '/payx'", peer: PAY, method: 'GET', path: '/payx', deny: 'no_matching_rule' },
  { name: 'rule without methods allows any method', peer: PAY, method: 'PATCH', path: '/pay/', rule: 'payments' },

  // Trust domains.
  { name: 'any ID of a trust domain', peer: 'spiffe://partner.org/reporting/job', method: 'POST', path: '/reports', rule: 'partner-reports' },
  { name: 'trust domain is not a suffix match', peer: 'spiffe://sub.partner.org/x', method: 'POST', path: '/reports', deny: 'caller_not_listed' },
  { name: 'trust domain is not a prefix match', peer: 'spiffe://partner.org.evil/x', method: 'POST', path: '/reports', deny: 'caller_not_listed' },

  // Default deny and unknown callers.
  { name: 'unknown caller', peer: 'spiffe://example.org/stranger', method: 'GET', path: '/api/x', deny: 'caller_not_listed' },

  // TCP: no method, no path.
  { name: 'TCP allowed by a rule without to', peer: 'spiffe://example.org/db-client', rule: 'db-tcp' },
  { name: 'rule without to allows any HTTP request too', peer: 'spiffe://example.org/db-client', method: 'GET', path: '/x', rule: 'db-tcp' },
  { name: 'TCP denied by a rule with paths and methods', peer: FRONTEND, deny: 'no_matching_rule' },
  { name: 'TCP denied by a rule with only paths', peer: PAY, deny: 'no_matching_rule' },
  { name: 'path missing where the rule lists paths', peer: PAY, method: 'GET', deny: 'no_matching_rule' },
  { name: 'TCP denied by a rule with only methods', peer: 'spiffe://example.org/cache', deny: 'no_matching_rule' },
  { name: 'methods-only rule, listed method', peer: 'spiffe://example.org/cache', method: 'PURGE', path: '/any/thing', rule: 'cache-purge' },
  { name: 'methods-only rule, other method', peer: 'spiffe://example.org/cache', method: 'GET', path: '/any/thing', deny: 'no_matching_rule' },
  { name: 'TCP from an unknown caller', peer: 'spiffe://example.org/stranger', deny: 'caller_not_listed' },
];

function check(d: Decision, row: Row): void {
  if (row.deny !== undefined) {
    assert.equal(d.allow, false, `expected deny, got ${JSON.stringify(d)}`);
    if (!d.allow) assert.equal(d.reason, row.deny, d.detail);
    return;
  }
  assert.equal(d.allow, true, `expected allow, got ${JSON.stringify(d)}`);
  if (!d.allow) return;
  assert.equal(d.rule, row.rule);
  const wantForward = row.forward ?? row.path;
  assert.equal(d.forwardTarget, wantForward);
}

for (const row of rows) {
  test(`evaluate: ${row.name}`, () => {
    const d = evaluate(policy, { peerId: SpiffeId.parse(row.peer), method: row.method, path: row.path });
    check(d, row);
  });
}

test('evaluate details: names the first rule that allows, in document order', () => {
  const p = parsePolicy(
    {
      version: 1,
      rules: [
        { name: 'first', from: [{ trustDomain: 'example.org' }], to: [{ paths: ['/a'] }] },
        { name: 'second', from: [{ id: FRONTEND }] },
      ],
    },
    'order',
  );
  const peerId = SpiffeId.parse(FRONTEND);
  assert.deepEqual(evaluate(p, { peerId, method: 'GET', path: '/a' }), { allow: true, rule: 'first', forwardTarget: '/a', dryRun: [] });
  assert.deepEqual(evaluate(p, { peerId, method: 'GET', path: '/b' }), { allow: true, rule: 'second', forwardTarget: '/b', dryRun: [] });
});

test('evaluate details: an empty rule list denies everything', () => {
  const p = parsePolicy({ version: 1, rules: [] }, 'empty');
  const d = evaluate(p, { peerId: SpiffeId.parse(FRONTEND) });
  assert.equal(d.allow, false);
});

test('evaluate details: deny details name the peer and request on one line, quoting odd methods', () => {
  const d = evaluate(policy, { peerId: SpiffeId.parse(FRONTEND), method: 'G\r\nX', path: '/api/x' });
  assert.ok(!d.allow);
  assert.equal(d.detail, 'no rule allows spiffe://example.org/frontend to "G\\u000d\\u000aX" /api/x');
  const unknown = evaluate(policy, { peerId: SpiffeId.parse('spiffe://x.org/y') });
  assert.ok(!unknown.allow);
  assert.equal(unknown.detail, 'no rule lists caller spiffe://x.org/y');
  const bad = evaluate(policy, { peerId: SpiffeId.parse(FRONTEND), path: '/a\r\nb' });
  assert.ok(!bad.allow);
  assert.match(bad.detail, /^control, space or non-ASCII character in request target: "\/a\\u000d\\u000ab"$/);
});

test('evaluate details: DENY_REASONS lists every reason the version 1 rows produce (evaluate-v2.test.ts covers the rest)', () => {
  const seen = new Set(rows.map((r) => r.deny).filter((r) => r !== undefined));
  assert.deepEqual([...seen].sort(), ['bad_path', 'caller_not_listed', 'no_matching_rule']);
  for (const r of seen) assert.ok(DENY_REASONS.includes(r), r);
});

const peerId = SpiffeId.parse('spiffe://anywhere.org/anyone');
test('allowAll: allows any peer and request, naming its own rule', () => {
  assert.deepEqual(evaluate(allowAll, { peerId, method: 'DELETE', path: '/x/./y?z' }), {
    allow: true,
    rule: ALLOW_ALL_RULE,
    forwardTarget: '/x/y?z',
    dryRun: [],
  });
  assert.deepEqual(evaluate(allowAll, { peerId }), { allow: true, rule: ALLOW_ALL_RULE, forwardTarget: undefined, dryRun: [] });
});
test('allowAll: still refuses bad paths, so the app sees the same paths with or without a policy', () => {
  const d = evaluate(allowAll, { peerId, method: 'GET', path: '/a%2fb' });
  assert.equal(d.allow, false);
  assert.ok(!d.allow && d.reason === 'bad_path');
});
test('allowAll: says what it is', () => {
  assert.deepEqual(allowAll.describe(), { source: '(no policy configured)', allowAll: true, rules: [] });
  assert.equal(String(allowAll), 'policy (no policy configured): allow all authenticated peers');
});

const p = sameTrustDomainPolicy(TrustDomain.parse('example.org'));
test('sameTrustDomainPolicy: allows any request and TCP from its trust domain', () => {
  const peerId = SpiffeId.parse('spiffe://example.org/anyone');
  assert.deepEqual(evaluate(p, { peerId, method: 'GET', path: '/x' }), { allow: true, rule: SAME_TRUST_DOMAIN_RULE, forwardTarget: '/x', dryRun: [] });
  assert.deepEqual(evaluate(p, { peerId }), { allow: true, rule: SAME_TRUST_DOMAIN_RULE, forwardTarget: undefined, dryRun: [] });
});
test('sameTrustDomainPolicy: denies other trust domains', () => {
  const d = evaluate(p, { peerId: SpiffeId.parse('spiffe://partner.org/x'), method: 'GET', path: '/x' });
  assert.ok(!d.allow && d.reason === 'caller_not_listed');
});
test('sameTrustDomainPolicy: describes itself', () => {
  assert.deepEqual(p.describe().rules, [{ name: SAME_TRUST_DOMAIN_RULE, from: [{ trustDomain: 'example.org' }] }]);
});
