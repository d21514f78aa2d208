import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DENY_REASONS,
  DRY_RUN_OUTCOMES,
  NO_DRY_RUN,
  evaluate,
  parsePolicy,
  type Decision,
  type DenyReason,
  type DryRunResult,
  type Policy,
  type PolicyPrincipal,
} from '../../../sidecar/policy/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

const WEB = 'spiffe://bank.example/ns/web/frontend';
const EDGE = 'spiffe://bank.example/edge';
const EU_EDGE = 'spiffe://bank.example/edges/eu';
const BATCH = 'spiffe://bank.example/batch';
const CANARY = 'spiffe://bank.example/canary';
const TUNNEL = 'spiffe://bank.example/tunnel-client';
const ISS = 'https://idp.example';

/** Each allow rule has its own path, so a row exercises exactly one condition. */
const rules = [
  { name: 'principal-exact', from: [{ id: WEB, principals: [`${ISS}/alice`] }], to: [{ paths: ['/p/exact'] }] },
  { name: 'principal-prefix', from: [{ id: WEB, principals: [`${ISS}/team/*`] }], to: [{ paths: ['/p/prefix'] }] },
  { name: 'any-user', from: [{ id: WEB, principals: ['*'] }], to: [{ paths: ['/p/any'] }] },
  { name: 'client', from: [{ id: WEB, clients: ['mobile-app'] }], to: [{ paths: ['/p/client'] }] },
  { name: 'claim-equals', from: [{ id: WEB, claims: [{ claim: 'tier', equals: 'gold' }] }], to: [{ paths: ['/c/equals'] }] },
  { name: 'claim-number', from: [{ id: WEB, claims: [{ claim: 'level', equals: 3 }] }], to: [{ paths: ['/c/number'] }] },
  { name: 'claim-bool', from: [{ id: WEB, claims: [{ claim: 'email_verified', equals: true }] }], to: [{ paths: ['/c/bool'] }] },
  { name: 'claim-anyof', from: [{ id: WEB, claims: [{ claim: 'department', anyOf: ['sales', 'support'] }] }], to: [{ paths: ['/c/anyof'] }] },
  { name: 'claim-contains', from: [{ id: WEB, claims: [{ claim: 'groups', contains: 'admins' }] }], to: [{ paths: ['/c/contains'] }] },
  { name: 'claim-nested', from: [{ id: WEB, claims: [{ claim: 'org.id', equals: 'acme' }] }], to: [{ paths: ['/c/nested'] }] },
  { name: 'claim-dotted', from: [{ id: WEB, claims: [{ claim: '["https://bank.example/tenant"]', equals: 't1' }] }], to: [{ paths: ['/c/dotted'] }] },
  { name: 'claim-scope', from: [{ id: WEB, claims: [{ claim: 'scope', contains: 'accounts:read' }] }], to: [{ paths: ['/c/scope'] }] },
  {
    name: 'claims-all',
    from: [{ id: WEB, claims: [{ claim: 'tier', equals: 'gold' }, { claim: 'level', equals: 3 }] }],
    to: [{ paths: ['/c/all'] }],
  },
  { name: 'ip', from: [{ id: WEB, ipBlocks: ['10.1.0.0/16', '2001:db8:1::/48'] }], to: [{ paths: ['/ip'] }] },
  { name: 'remote', from: [{ remoteIpBlocks: ['198.51.100.0/24', '2001:db8:9::/48'] }], to: [{ paths: ['/remote'] }] },
  {
    name: 'own-accounts',
    from: [{ idPrefix: 'spiffe://bank.example/ns/web/*' }],
    to: [{ pathTemplates: ['/customers/{claims.customer_id}/accounts/*', '/tenants/{claims.org.id}/**'], methods: ['GET'] }],
  },
  { name: 'batch', from: [{ id: BATCH }] },
  { name: 'user-tunnel', from: [{ id: TUNNEL, principals: ['*'] }] },
  { name: 'deny-blocked-users', action: 'deny', from: [{ id: WEB, claims: [{ claim: 'blocked', equals: true }] }] },
  { name: 'deny-batch-admin', action: 'deny', from: [{ id: BATCH }], to: [{ pathPrefixes: ['/admin'] }] },
  { name: 'try-deny-batch-reports', action: 'deny', dryRun: true, from: [{ id: BATCH }], to: [{ pathPrefixes: ['/reports'] }] },
  { name: 'try-allow-canary', dryRun: true, from: [{ id: CANARY }], to: [{ paths: ['/canary'] }] },
  { name: 'try-allow-batch-reports', dryRun: true, from: [{ id: BATCH }], to: [{ paths: ['/reports/daily'] }] },
];

function policyWithHops(trustedHops: number): Policy {
  return parsePolicy({ version: 2, remoteAddress: { trustedCallers: [EDGE, 'spiffe://bank.example/edges/*'], trustedHops }, rules }, `hops-${trustedHops}`);
}
const HOPS = [policyWithHops(0), policyWithHops(1), policyWithHops(2)] as const;

function user(over: Partial<PolicyPrincipal> & { claims?: Record<string, unknown> } = {}): PolicyPrincipal {
  return { issuer: ISS, subject: 'alice', clientId: 'web-app', scopes: [], claims: {}, ...over };
}
const alice = (claims: Record<string, unknown>): PolicyPrincipal => user({ claims: { sub: 'alice', ...claims } });

type Row = {
  name: string;
  peer?: string;
  method?: string;
  path?: string;
  principal?: PolicyPrincipal;
  peerAddress?: string;
  forwardedFor?: string[];
  hops?: 0 | 1 | 2;
  rule?: string;
  deny?: DenyReason;
  denyRule?: string;
  dryRun?: DryRunResult[];
};

const rows: Row[] = [
  // principals: exact, and prefixes that stop at a '/' boundary.
  { name: 'principal exact: listed user', path: '/p/exact', principal: user(), rule: 'principal-exact' },
  { name: 'principal exact: other user', path: '/p/exact', principal: user({ subject: 'bob' }), deny: 'no_matching_rule' },
  { name: 'principal exact: same subject, other issuer', path: '/p/exact', principal: user({ issuer: 'https://evil.example' }), deny: 'no_matching_rule' },
  { name: 'principal exact: subject is not a prefix', path: '/p/exact', principal: user({ subject: 'alicex' }), deny: 'no_matching_rule' },
  { name: 'principal prefix: subject below it', path: '/p/prefix', principal: user({ subject: 'team/bob' }), rule: 'principal-prefix' },
  { name: 'principal prefix: deeper subject', path: '/p/prefix', principal: user({ subject: 'team/ops/bob' }), rule: 'principal-prefix' },
  { name: 'principal prefix: stops at the "/" boundary', path: '/p/prefix', principal: user({ subject: 'teamx/bob' }), deny: 'no_matching_rule' },
  { name: 'principal prefix: the prefix itself is not below it', path: '/p/prefix', principal: user({ subject: 'team' }), deny: 'no_matching_rule' },
  { name: 'principal prefix: issuer that extends the pattern', path: '/p/prefix', principal: user({ issuer: `${ISS}.evil`, subject: 'team/bob' }), deny: 'no_matching_rule' },
  { name: 'principal "*": any user', path: '/p/any', principal: user({ subject: 'carol' }), rule: 'any-user' },
  { name: 'principal "*": a token without a subject is no user', path: '/p/any', principal: user({ subject: '' }), deny: 'no_matching_rule' },

  // clients.
  { name: 'client listed', path: '/p/client', principal: user({ clientId: 'mobile-app' }), rule: 'client' },
  { name: 'client not listed', path: '/p/client', principal: user({ clientId: 'other-app' }), deny: 'no_matching_rule' },

  // claims: equals / anyOf / contains, nesting, dotted keys, types.
  { name: 'claim equals string', path: '/c/equals', principal: alice({ tier: 'gold' }), rule: 'claim-equals' },
  { name: 'claim equals: other value', path: '/c/equals', principal: alice({ tier: 'silver' }), deny: 'no_matching_rule' },
  { name: 'claim equals: list holding the value is not the value', path: '/c/equals', principal: alice({ tier: ['gold'] }), deny: 'no_matching_rule' },
  { name: 'claim equals: claim missing', path: '/c/equals', principal: alice({}), deny: 'no_matching_rule' },
  { name: 'claim equals number', path: '/c/number', principal: alice({ level: 3 }), rule: 'claim-number' },
  { name: 'claim equals number: string "3" is not 3', path: '/c/number', principal: alice({ level: '3' }), deny: 'no_matching_rule' },
  { name: 'claim equals boolean', path: '/c/bool', principal: alice({ email_verified: true }), rule: 'claim-bool' },
  { name: 'claim equals boolean: string "true" is not true', path: '/c/bool', principal: alice({ email_verified: 'true' }), deny: 'no_matching_rule' },
  { name: 'claim anyOf: second value', path: '/c/anyof', principal: alice({ department: 'support' }), rule: 'claim-anyof' },
  { name: 'claim anyOf: value not listed', path: '/c/anyof', principal: alice({ department: 'it' }), deny: 'no_matching_rule' },
  { name: 'claim anyOf: a list claim is not a scalar', path: '/c/anyof', principal: alice({ department: ['sales'] }), deny: 'no_matching_rule' },
  { name: 'claim contains: list with the value', path: '/c/contains', principal: alice({ groups: ['users', 'admins'] }), rule: 'claim-contains' },
  { name: 'claim contains: list without it', path: '/c/contains', principal: alice({ groups: ['users'] }), deny: 'no_matching_rule' },
  { name: 'claim contains: scalar claim is not a list', path: '/c/contains', principal: alice({ groups: 'admins' }), deny: 'no_matching_rule' },
  { name: 'claim nested', path: '/c/nested', principal: alice({ org: { id: 'acme' } }), rule: 'claim-nested' },
  { name: 'claim nested: a key with a dot is not nesting', path: '/c/nested', principal: alice({ 'org.id': 'acme' }), deny: 'no_matching_rule' },
  { name: 'claim nested: not inherited from prototypes', path: '/c/nested', principal: alice({ org: Object.create({ id: 'acme' }) as object }), deny: 'no_matching_rule' },
  { name: 'claim key with dots and slashes', path: '/c/dotted', principal: alice({ 'https://bank.example/tenant': 't1' }), rule: 'claim-dotted' },
  { name: 'claim key with dots is not read as nesting', path: '/c/dotted', principal: alice({ https: { '//bank': { example: { '/tenant': 't1' } } } }), deny: 'no_matching_rule' },
  { name: 'scope from the principal scopes', path: '/c/scope', principal: user({ scopes: ['openid', 'accounts:read'] }), rule: 'claim-scope' },
  { name: 'scope: the raw claim string is not consulted', path: '/c/scope', principal: user({ scopes: [], claims: { scope: 'accounts:read' } }), deny: 'no_matching_rule' },
  { name: 'claims: every condition must hold', path: '/c/all', principal: alice({ tier: 'gold', level: 2 }), deny: 'no_matching_rule' },
  { name: 'claims: all conditions hold', path: '/c/all', principal: alice({ tier: 'gold', level: 3 }), rule: 'claims-all' },

  // ipBlocks on the direct peer's address.
  { name: 'ipBlocks IPv4 inside', path: '/ip', peerAddress: '10.1.200.3', rule: 'ip' },
  { name: 'ipBlocks IPv4 outside', path: '/ip', peerAddress: '10.2.0.1', deny: 'no_matching_rule' },
  { name: 'ipBlocks IPv4-mapped IPv6 matches the IPv4 block', path: '/ip', peerAddress: '::ffff:10.1.0.9', rule: 'ip' },
  { name: 'ipBlocks IPv6 inside', path: '/ip', peerAddress: '2001:db8:1:ff::5', rule: 'ip' },
  { name: 'ipBlocks IPv6 outside', path: '/ip', peerAddress: '2001:db8:2::5', deny: 'no_matching_rule' },
  { name: 'ipBlocks IPv6 uppercase, compressed differently', path: '/ip', peerAddress: '2001:0DB8:0001:0:0:0:0:1', rule: 'ip' },
  { name: 'ipBlocks: no peer address', path: '/ip', deny: 'no_matching_rule' },
  { name: 'ipBlocks: not an address', path: '/ip', peerAddress: '10.1.0.1x', deny: 'no_matching_rule' },

  // remoteIpBlocks: believed only from trusted callers, counted from the right.
  { name: 'remote: trusted edge, 1 hop', peer: EDGE, path: '/remote', forwardedFor: ['198.51.100.7'], rule: 'remote' },
  { name: 'remote: untrusted caller, same header', peer: WEB, path: '/remote', forwardedFor: ['198.51.100.7'], deny: 'no_matching_rule' },
  { name: 'remote: trusted by ID prefix', peer: EU_EDGE, path: '/remote', forwardedFor: ['198.51.100.7'], rule: 'remote' },
  { name: 'remote: 1 hop ignores spoofed entries to the left', peer: EDGE, path: '/remote', forwardedFor: ['198.51.100.66', '192.0.2.1'], deny: 'caller_not_listed' },
  { name: 'remote: 1 hop, spoofed left entries do not hide the client', peer: EDGE, path: '/remote', forwardedFor: ['192.0.2.66', '198.51.100.7'], rule: 'remote' },
  { name: 'remote: 2 hops takes the second from the right', peer: EDGE, hops: 2, path: '/remote', forwardedFor: ['198.51.100.7', '10.0.0.5'], rule: 'remote' },
  { name: 'remote: 2 hops, spoofed extra entry to the left', peer: EDGE, hops: 2, path: '/remote', forwardedFor: ['198.51.100.66', '192.0.2.1', '10.0.0.5'], deny: 'caller_not_listed' },
  { name: 'remote: 2 hops, list too short', peer: EDGE, hops: 2, path: '/remote', forwardedFor: ['198.51.100.7'], deny: 'caller_not_listed' },
  { name: 'remote: 0 hops uses the edge connection address', peer: EDGE, hops: 0, path: '/remote', peerAddress: '198.51.100.9', forwardedFor: ['192.0.2.1'], rule: 'remote' },
  { name: 'remote: 0 hops ignores the header', peer: EDGE, hops: 0, path: '/remote', peerAddress: '10.0.0.1', forwardedFor: ['198.51.100.7'], deny: 'caller_not_listed' },
  { name: 'remote: no header', peer: EDGE, path: '/remote', deny: 'caller_not_listed' },
  { name: 'remote: bracketed IPv6 with port (RFC 7239)', peer: EDGE, path: '/remote', forwardedFor: ['[2001:db8:9::1]:4711'], rule: 'remote' },
  { name: 'remote: IPv4 with port', peer: EDGE, path: '/remote', forwardedFor: ['198.51.100.7:443'], rule: 'remote' },
  { name: 'remote: "unknown"', peer: EDGE, path: '/remote', forwardedFor: ['unknown'], deny: 'caller_not_listed' },

  // Path templates bound to claims (object-level authorization).
  { name: 'template: own customer id', method: 'GET', path: '/customers/1001/accounts/7', principal: alice({ customer_id: '1001' }), rule: 'own-accounts' },
  { name: "template: another customer's id", method: 'GET', path: '/customers/1002/accounts/7', principal: alice({ customer_id: '1001' }), deny: 'no_matching_rule' },
  { name: 'template: numeric claim in canonical form', method: 'GET', path: '/customers/1001/accounts/7', principal: alice({ customer_id: 1001 }), rule: 'own-accounts' },
  { name: 'template: number not in canonical form', method: 'GET', path: '/customers/01001/accounts/7', principal: alice({ customer_id: 1001 }), deny: 'no_matching_rule' },
  { name: 'template: encoded slash in the segment is refused', method: 'GET', path: '/customers/1001%2F..%2F1002/accounts/7', principal: alice({ customer_id: '1001' }), deny: 'bad_path' },
  { name: 'template: claim with a slash never matches', method: 'GET', path: '/customers/1001/x/accounts/7', principal: alice({ customer_id: '1001/x' }), deny: 'no_matching_rule' },
  { name: 'template: ".." out of own id', method: 'GET', path: '/customers/1001/../1002/accounts/7', principal: alice({ customer_id: '1001' }), deny: 'no_matching_rule' },
  { name: 'template: ".." into own id is the own resource', method: 'GET', path: '/customers/1002/../1001/accounts/7', principal: alice({ customer_id: '1001' }), rule: 'own-accounts', forward: '/customers/1001/accounts/7' } as Row,
  { name: 'template: encoded ".." out of own id', method: 'GET', path: '/customers/1001/%2e%2e/1002/accounts/7', principal: alice({ customer_id: '1001' }), deny: 'no_matching_rule' },
  { name: 'template: claim ".." never matches', method: 'GET', path: '/customers/../accounts/7', principal: alice({ customer_id: '..' }), deny: 'no_matching_rule' },
  { name: 'template: empty segment, empty claim', method: 'GET', path: '/customers//accounts/7', principal: alice({ customer_id: '' }), deny: 'no_matching_rule' },
  { name: 'template: "*" needs a non-empty segment', method: 'GET', path: '/customers/1001/accounts/', principal: alice({ customer_id: '1001' }), deny: 'no_matching_rule' },
  { name: 'template: "*" is one segment only', method: 'GET', path: '/customers/1001/accounts/7/transfers', principal: alice({ customer_id: '1001' }), deny: 'no_matching_rule' },
  { name: 'template: claim missing', method: 'GET', path: '/customers/1001/accounts/7', principal: alice({}), deny: 'no_matching_rule' },
  { name: 'template: claim is a list', method: 'GET', path: '/customers/1001/accounts/7', principal: alice({ customer_id: ['1001'] }), deny: 'no_matching_rule' },
  { name: 'template: claim is an object', method: 'GET', path: '/customers/1001/accounts/7', principal: alice({ customer_id: { id: '1001' } }), deny: 'no_matching_rule' },
  { name: 'template: segment compared percent-decoded', method: 'GET', path: '/customers/a%20b/accounts/7', principal: alice({ customer_id: 'a b' }), rule: 'own-accounts' },
  { name: 'template: percent-encoded claim text is another resource', method: 'GET', path: '/customers/a%20b/accounts/7', principal: alice({ customer_id: 'a%20b' }), deny: 'no_matching_rule' },
  { name: 'template: decoded unreserved characters', method: 'GET', path: '/customers/%31001/accounts/7', principal: alice({ customer_id: '1001' }), rule: 'own-accounts', forward: '/customers/1001/accounts/7' } as Row,
  { name: 'template: method still applies', method: 'DELETE', path: '/customers/1001/accounts/7', principal: alice({ customer_id: '1001' }), deny: 'no_matching_rule' },
  { name: 'template "**": everything below the own tenant', method: 'GET', path: '/tenants/acme/a/b', principal: alice({ org: { id: 'acme' } }), rule: 'own-accounts' },
  { name: 'template "**": the tenant itself', method: 'GET', path: '/tenants/acme', principal: alice({ org: { id: 'acme' } }), rule: 'own-accounts' },
  { name: 'template "**": not a string prefix', method: 'GET', path: '/tenants/acmex/a', principal: alice({ org: { id: 'acme' } }), deny: 'no_matching_rule' },

  // principal_required (401) versus 403 reasons.
  { name: 'no token where a template needs claims', method: 'GET', path: '/customers/1001/accounts/7', deny: 'principal_required', denyRule: 'own-accounts' },
  { name: 'no token where a from entry needs a principal', path: '/p/exact', deny: 'principal_required', denyRule: 'principal-exact' },
  { name: 'no token, and even with one the path would not match', method: 'GET', path: '/customers/1001/other', deny: 'no_matching_rule' },
  { name: 'TCP connection never asks for a token', peer: TUNNEL, deny: 'no_matching_rule' },
  { name: 'HTTP request to a rule without "to" that needs a user', peer: TUNNEL, path: '/x', deny: 'principal_required', denyRule: 'user-tunnel' },
  { name: 'TCP connection from a caller listed only for requests', peer: WEB, deny: 'no_matching_rule' },
  { name: 'caller listed by no allow rule', peer: 'spiffe://other.example/x', path: '/p/exact', deny: 'caller_not_listed' },

  // deny rules win regardless of order; dry-run rules never decide.
  { name: 'deny rule listed after the allowing rule still wins', path: '/c/equals', principal: alice({ tier: 'gold', blocked: true }), deny: 'denied_by_rule', denyRule: 'deny-blocked-users' },
  { name: 'deny rule with a request condition', peer: BATCH, path: '/admin/users', deny: 'denied_by_rule', denyRule: 'deny-batch-admin' },
  { name: 'deny rule needing a principal does not apply without one', peer: BATCH, path: '/x', rule: 'batch' },
  { name: 'deny rule not matching: allow applies', path: '/c/equals', principal: alice({ tier: 'gold', blocked: false }), rule: 'claim-equals' },
  {
    name: 'dry-run deny is reported, not enforced',
    peer: BATCH,
    path: '/reports/weekly',
    rule: 'batch',
    dryRun: [{ rule: 'try-deny-batch-reports', outcome: 'would_deny' }],
  },
  {
    name: 'every matching dry-run rule is reported, in order',
    peer: BATCH,
    path: '/reports/daily',
    rule: 'batch',
    dryRun: [
      { rule: 'try-deny-batch-reports', outcome: 'would_deny' },
      { rule: 'try-allow-batch-reports', outcome: 'would_allow' },
    ],
  },
  {
    name: 'dry-run allow does not allow, and is reported',
    peer: CANARY,
    path: '/canary',
    deny: 'caller_not_listed',
    dryRun: [{ rule: 'try-allow-canary', outcome: 'would_allow' }],
  },
  { name: 'dry-run rule not matching: nothing reported', peer: CANARY, path: '/other', deny: 'caller_not_listed' },
  {
    name: 'dry-run results come with an enforced denial too',
    peer: BATCH,
    path: '/admin/x',
    deny: 'denied_by_rule',
    denyRule: 'deny-batch-admin',
  },
];

function check(d: Decision, row: Row & { forward?: string }): void {
  assert.deepEqual(d.dryRun, row.dryRun ?? [], 'dry-run results');
  if (row.dryRun === undefined) assert.equal(d.dryRun, NO_DRY_RUN, 'no allocation without dry-run results');
  if (row.deny !== undefined) {
    assert.equal(d.allow, false, `expected deny, got ${JSON.stringify(d)}`);
    if (d.allow) return;
    assert.equal(d.reason, row.deny, d.detail);
    assert.equal(d.rule, row.denyRule);
    return;
  }
  assert.equal(d.allow, true, `expected allow, got ${JSON.stringify(d)}`);
  if (!d.allow) return;
  assert.equal(d.rule, row.rule);
  assert.equal(d.forwardTarget, row.forward ?? row.path);
}

for (const row of rows) {
  test(`evaluate (version 2): ${row.name}`, () => {
    const d = evaluate(HOPS[row.hops ?? 1], {
      peerId: SpiffeId.parse(row.peer ?? WEB),
      method: row.method ?? (row.path === undefined ? undefined : 'GET'),
      path: row.path,
      principal: row.principal,
      peerAddress: row.peerAddress,
      forwardedFor: row.forwardedFor,
    });
    check(d, row);
  });
}

test('evaluate (version 2): DENY_REASONS and DRY_RUN_OUTCOMES list exactly what the rows produce', () => {
  const reasons = new Set(rows.flatMap((r) => (r.deny === undefined ? [] : [r.deny])));
  assert.deepEqual([...reasons].sort(), [...DENY_REASONS].sort());
  const outcomes = new Set(rows.flatMap((r) => (r.dryRun ?? []).map((x) => x.outcome)));
  assert.deepEqual([...outcomes].sort(), [...DRY_RUN_OUTCOMES].sort());
  assert.ok(Object.isFrozen(DENY_REASONS) && Object.isFrozen(NO_DRY_RUN));
});

const peerId = SpiffeId.parse(WEB);
test('evaluate details (version 2): names the user by issuer and subject only, never other claim values', () => {
  const d = evaluate(HOPS[1], { peerId, method: 'GET', path: '/customers/1002/accounts/7', principal: alice({ customer_id: 'secret-1001', tier: 'hidden-gold' }) });
  assert.ok(!d.allow);
  assert.equal(d.detail, 'no rule allows spiffe://bank.example/ns/web/frontend (user "https://idp.example" "alice") to GET /customers/1002/accounts/7');
  assert.doesNotMatch(d.detail, /secret|hidden/);
});
test('evaluate details (version 2): quotes hostile subjects', () => {
  const d = evaluate(HOPS[1], { peerId, method: 'GET', path: '/p/exact', principal: user({ subject: 'x\r\ny' }) });
  assert.ok(!d.allow);
  assert.match(d.detail, /\(user "https:\/\/idp\.example" "x\\u000d\\u000ay"\)/);
});
test('evaluate details (version 2): says which rule wanted a token', () => {
  const d = evaluate(HOPS[1], { peerId, method: 'GET', path: '/p/client' });
  assert.ok(!d.allow);
  assert.equal(d.detail, 'rule client needs an end-user token, and none was presented (spiffe://bank.example/ns/web/frontend to GET /p/client)');
});
test('evaluate details (version 2): names the deny rule', () => {
  const d = evaluate(HOPS[1], { peerId: SpiffeId.parse(BATCH), method: 'POST', path: '/admin/x' });
  assert.ok(!d.allow);
  assert.equal(d.detail, 'rule deny-batch-admin denies spiffe://bank.example/batch to POST /admin/x');
});
test('evaluate details (version 2): fails closed, without throwing, when a principal is malformed', () => {
  const broken = { issuer: ISS, subject: 'alice', clientId: '', scopes: [], get claims(): Record<string, unknown> { throw new Error('boom'); } };
  const d = evaluate(HOPS[1], { peerId, method: 'GET', path: '/c/equals', principal: broken });
  assert.ok(!d.allow);
  assert.equal(d.reason, 'no_matching_rule');
  assert.match(d.detail, /^policy evaluation failed: .*boom/);
  // The next evaluation is unaffected.
  assert.equal(evaluate(HOPS[1], { peerId, method: 'GET', path: '/c/equals', principal: alice({ tier: 'gold' }) }).allow, true);
});
test('evaluate details (version 2): is deterministic across interleaved requests (the shared view is reset)', () => {
  const edge = SpiffeId.parse(EDGE);
  const a = evaluate(HOPS[1], { peerId: edge, method: 'GET', path: '/remote', forwardedFor: ['198.51.100.7'] });
  const b = evaluate(HOPS[1], { peerId: edge, method: 'GET', path: '/remote' });
  const c = evaluate(HOPS[1], { peerId: edge, method: 'GET', path: '/remote', forwardedFor: ['198.51.100.7'] });
  assert.deepEqual([a.allow, b.allow, c.allow], [true, false, true]);
});
