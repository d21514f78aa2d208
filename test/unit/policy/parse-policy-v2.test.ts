import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError, loadPolicyText, parsePolicy, type ParsePolicyOptions } from '../../../sidecar/policy/index.ts';

const WEB = 'spiffe://example.org/web';
const EDGE = { trustedCallers: ['spiffe://example.org/edge'], trustedHops: 1 };

/** A valid version 2 document; rows replace parts of it. */
function doc(rule: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 2, rules: [{ name: 'r', from: [{ id: WEB }], ...rule }], ...top };
}
const from = (entry: unknown, top: Record<string, unknown> = {}): Record<string, unknown> => doc({ from: [entry] }, top);
const to = (entry: unknown): Record<string, unknown> => doc({ to: [entry] });
const v1 = (rule: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> => ({ ...doc(rule, top), version: 1 });

function problemsOf(input: unknown, options?: ParsePolicyOptions): readonly string[] {
  try {
    parsePolicy(input, 'test.yaml', options);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected PolicyError, got ${String(err)}`);
    assert.equal(err.code, 'policy.invalid');
    return err.problems;
  }
  return [];
}

type Row = { name: string; input: unknown; problems: RegExp[]; tcp?: true };

// One row per validation rule; each expects exactly the listed problems.
const rows: Row[] = [
  // Versions: version 1 keeps its key set and says where the new keys live.
  { name: 'v1 rule with action', input: v1({ action: 'deny' }), problems: [/^rules\[0\]\.action: "action" is a version 2 key; set "version: 2" at the top of the document to use it$/] },
  { name: 'v1 rule with dryRun', input: v1({ dryRun: true }), problems: [/^rules\[0\]\.dryRun: "dryRun" is a version 2 key; set "version: 2"/] },
  { name: 'v1 from entry with principals', input: v1({ from: [{ id: WEB, principals: ['https://idp/a'] }] }), problems: [/^rules\[0\]\.from\[0\]\.principals: "principals" is a version 2 key/] },
  { name: 'v1 from entry with only a v2 key', input: v1({ from: [{ ipBlocks: ['10.0.0.0/8'] }] }), problems: [/^rules\[0\]\.from\[0\]\.ipBlocks: "ipBlocks" is a version 2 key/] },
  { name: 'v1 to entry with pathTemplates', input: v1({ to: [{ pathTemplates: ['/a/{claims.x}'] }] }), problems: [/^rules\[0\]\.to\[0\]\.pathTemplates: "pathTemplates" is a version 2 key/, /^rules\[0\]\.to\[0\]: needs paths, pathPrefixes or methods/] },
  { name: 'v1 document with remoteAddress', input: v1({}, { remoteAddress: EDGE }), problems: [/^remoteAddress: "remoteAddress" is a version 2 key/] },
  { name: 'v2 unknown key lists the v2 keys', input: doc({ acton: 'deny' }), problems: [/^rules\[0\]\.acton: unknown key \(expected name, action, dryRun, from, to\)$/] },

  // Rules.
  { name: 'action not allow/deny', input: doc({ action: 'reject' }), problems: [/^rules\[0\]\.action: expected "allow" or "deny", got string "reject"$/] },
  { name: 'dryRun not a boolean', input: doc({ dryRun: 'yes' }), problems: [/^rules\[0\]\.dryRun: expected true or false, got string "yes"$/] },

  // from entries.
  { name: 'entry with no key', input: from({}), problems: [/^rules\[0\]\.from\[0\]: needs one or more of id, idPrefix, trustDomain, principals, clients, claims, ipBlocks, remoteIpBlocks$/] },
  { name: 'entry with two SPIFFE keys', input: from({ id: WEB, trustDomain: 'example.org' }), problems: [/^rules\[0\]\.from\[0\]: give at most one of id, idPrefix, trustDomain per entry \(got id, trustDomain\)$/] },
  { name: 'SPIFFE key still validated', input: from({ id: 'spiffe://example.org', clients: ['c'] }), problems: [/^rules\[0\]\.from\[0\]\.id: .* no workload has/] },
  { name: 'principals empty', input: from({ principals: [] }), problems: [/^rules\[0\]\.from\[0\]\.principals: empty list/] },
  { name: 'principal without a subject', input: from({ principals: ['alice'] }), problems: [/\.principals\[0\]: "alice": write "<issuer>\/<subject>"/] },
  { name: 'principal: issuer URL without a subject', input: from({ principals: ['https://idp.example'] }), problems: [/\.principals\[0\]: .*: the subject is missing: write "https:\/\/idp\.example\/<subject>"/] },
  { name: 'principal with an inner "*"', input: from({ principals: ['https://idp/*/x'] }), problems: [/\.principals\[0\]: .*: a "\*" may only end the pattern, right after a "\/"/] },
  { name: 'principal prefix not at a "/" boundary', input: from({ principals: ['https://idp/al*'] }), problems: [/\.principals\[0\]: .*: a "\*" may only end the pattern/] },
  { name: 'principal with an empty issuer', input: from({ principals: ['/alice'] }), problems: [/\.principals\[0\]: .*: the issuer part is empty$/] },
  { name: 'principal with an empty subject', input: from({ principals: ['https://idp/x/'] }), problems: [/\.principals\[0\]: .*: the subject part is empty/] },
  { name: 'principal with a control character', input: from({ principals: ['https://idp/a\nb'] }), problems: [/\.principals\[0\]: .*: control characters are not allowed$/] },
  { name: 'client empty', input: from({ clients: [''] }), problems: [/\.clients\[0\]: "": empty client ID$/] },
  { name: 'client wildcard', input: from({ clients: ['app-*'] }), problems: [/\.clients\[0\]: "app-\*": wildcards are not supported/] },
  { name: 'claims not a list', input: from({ claims: { claim: 'a', equals: 1 } }), problems: [/\.claims: expected a list, got an object$/] },
  { name: 'claim condition without claim', input: from({ claims: [{ equals: 1 }] }), problems: [/\.claims\[0\]\.claim: required/] },
  { name: 'claim condition without operator', input: from({ claims: [{ claim: 'a' }] }), problems: [/\.claims\[0\]: give exactly one of equals, anyOf, contains$/] },
  { name: 'claim condition with two operators', input: from({ claims: [{ claim: 'a', equals: 1, contains: 1 }] }), problems: [/\.claims\[0\]: give exactly one of equals, anyOf, contains \(got equals, contains\)$/] },
  { name: 'claim condition unknown key', input: from({ claims: [{ claim: 'a', equal: 1 }] }), problems: [/\.claims\[0\]\.equal: unknown key .* did you mean "equals"\?$/, /\.claims\[0\]: give exactly one of/] },
  { name: 'claim path with a bare dotted-key mistake', input: from({ claims: [{ claim: 'a..b', equals: 1 }] }), problems: [/\.claims\[0\]\.claim: "a\.\.b": at character 3: "\." is not allowed in a bare name/] },
  { name: 'claim path with a slash outside brackets', input: from({ claims: [{ claim: 'https://x/t', equals: 1 }] }), problems: [/\.claims\[0\]\.claim: "https:\/\/x\/t": at character 7: "\/" is not allowed in a bare name; write names with other characters as \["\.\.\."\]/] },
  { name: 'claim path bracket not closed', input: from({ claims: [{ claim: '["a"', equals: 1 }] }), problems: [/\.claims\[0\]\.claim: .*expected "\]" after the quoted name$/] },
  { name: 'claim path bracket without quotes', input: from({ claims: [{ claim: 'a[b]', equals: 1 }] }), problems: [/\.claims\[0\]\.claim: .*"\[" must be followed by a JSON string/] },
  { name: 'claim path ".[" form', input: from({ claims: [{ claim: 'a.["b"]', equals: 1 }] }), problems: [/\.claims\[0\]\.claim: .*"\[" is not allowed in a bare name/] },
  { name: 'claim equals null', input: from({ claims: [{ claim: 'a', equals: null }] }), problems: [/\.claims\[0\]\.equals: expected a string, number or boolean, got null$/] },
  { name: 'claim equals a list', input: from({ claims: [{ claim: 'a', equals: ['x'] }] }), problems: [/\.claims\[0\]\.equals: expected a string, number or boolean, got a list$/] },
  { name: 'claim anyOf empty', input: from({ claims: [{ claim: 'a', anyOf: [] }] }), problems: [/\.claims\[0\]\.anyOf: empty list/] },
  { name: 'claim anyOf with an object', input: from({ claims: [{ claim: 'a', anyOf: ['x', {}] }] }), problems: [/\.claims\[0\]\.anyOf\[1\]: expected a string, number or boolean, got an object$/] },
  { name: 'claim scope with equals', input: from({ claims: [{ claim: 'scope', equals: 'read' }] }), problems: [/\.claims\[0\]\.equals: "scope" is read as the list of the token's scopes; use "contains: <scope>"$/] },
  { name: 'claim scope contains a number', input: from({ claims: [{ claim: 'scope', contains: 1 }] }), problems: [/\.claims\[0\]\.contains: scopes are strings/] },
  { name: 'ipBlocks: not an address', input: from({ ipBlocks: ['10.0.0/8'] }), problems: [/\.ipBlocks\[0\]: "10\.0\.0\/8": not an IPv4 or IPv6 address/] },
  { name: 'ipBlocks: leading zero', input: from({ ipBlocks: ['10.0.0.010/32'] }), problems: [/\.ipBlocks\[0\]: .*: not an IPv4 or IPv6 address \(zone IDs and leading zeros/] },
  { name: 'ipBlocks: prefix too long', input: from({ ipBlocks: ['10.0.0.0/33'] }), problems: [/\.ipBlocks\[0\]: .*: prefix length must be a number from 0 to 32$/] },
  { name: 'ipBlocks: prefix not a number', input: from({ ipBlocks: ['2001:db8::/x'] }), problems: [/\.ipBlocks\[0\]: .*: prefix length must be a number from 0 to 128$/] },
  { name: 'ipBlocks: host bits set', input: from({ ipBlocks: ['10.1.2.3/8'] }), problems: [/\.ipBlocks\[0\]: .*: host bits are set; did you mean 10\.0\.0\.0\/8\?$/] },
  { name: 'ipBlocks: IPv6 host bits set', input: from({ ipBlocks: ['2001:db8::1/32'] }), problems: [/: host bits are set; did you mean 2001:db8::\/32\?$/] },
  { name: 'ipBlocks: IPv4-mapped block', input: from({ ipBlocks: ['::ffff:10.0.0.0/104'] }), problems: [/: IPv4-mapped addresses are matched as IPv4; write 10\.0\.0\.0\/8$/] },
  { name: 'ipBlocks: zone ID', input: from({ ipBlocks: ['fe80::1%eth0'] }), problems: [/: not an IPv4 or IPv6 address/] },
  { name: 'remoteIpBlocks without remoteAddress', input: from({ remoteIpBlocks: ['10.0.0.0/8'] }), problems: [/^rules\[0\]\.from\[0\]\.remoteIpBlocks: needs the top-level "remoteAddress" setting/] },
  { name: 'remoteIpBlocks checked like ipBlocks', input: from({ remoteIpBlocks: ['10.0.0.1/8'] }, { remoteAddress: EDGE }), problems: [/\.remoteIpBlocks\[0\]: .*host bits are set/] },

  // remoteAddress.
  { name: 'remoteAddress not an object', input: doc({}, { remoteAddress: [] }), problems: [/^remoteAddress: expected an object with trustedCallers and trustedHops, got a list$/] },
  { name: 'remoteAddress without trustedCallers', input: doc({}, { remoteAddress: { trustedHops: 1 } }), problems: [/^remoteAddress\.trustedCallers: required/] },
  { name: 'remoteAddress without trustedHops', input: doc({}, { remoteAddress: { trustedCallers: [WEB] } }), problems: [/^remoteAddress\.trustedHops: required/] },
  { name: 'trustedHops negative', input: doc({}, { remoteAddress: { ...EDGE, trustedHops: -1 } }), problems: [/^remoteAddress\.trustedHops: expected a whole number from 0 to 10, got number -1$/] },
  { name: 'trustedHops fractional', input: doc({}, { remoteAddress: { ...EDGE, trustedHops: 1.5 } }), problems: [/^remoteAddress\.trustedHops: expected a whole number/] },
  { name: 'trustedHops too large', input: doc({}, { remoteAddress: { ...EDGE, trustedHops: 11 } }), problems: [/^remoteAddress\.trustedHops: expected a whole number from 0 to 10/] },
  { name: 'trustedCallers with a bad ID', input: doc({}, { remoteAddress: { ...EDGE, trustedCallers: ['edge'] } }), problems: [/^remoteAddress\.trustedCallers\[0\]: invalid SPIFFE ID "edge"/] },
  { name: 'trustedCallers with a bad prefix', input: doc({}, { remoteAddress: { ...EDGE, trustedCallers: ['spiffe://td/*/x/*'] } }), problems: [/^remoteAddress\.trustedCallers\[0\]: .*only one "\*"/] },
  { name: 'remoteAddress unknown key', input: doc({}, { remoteAddress: { ...EDGE, hops: 1 } }), problems: [/^remoteAddress\.hops: unknown key \(expected trustedCallers, trustedHops\)$/] },

  // to entries with templates.
  { name: 'pathTemplates empty', input: to({ pathTemplates: [] }), problems: [/\.pathTemplates: empty list/] },
  { name: 'to entry with nothing names templates in v2', input: to({}), problems: [/^rules\[0\]\.to\[0\]: needs paths, pathPrefixes, pathTemplates or methods/] },
  { name: 'template variable sharing a segment', input: to({ pathTemplates: ['/c/id-{claims.id}'] }), problems: [/\.pathTemplates\[0\]: .*: a variable must be a whole segment/] },
  { name: 'template variable followed by text', input: to({ pathTemplates: ['/c/{claims.id}.json'] }), problems: [/\.pathTemplates\[0\]: .*: a variable must be a whole segment; nothing may follow it/] },
  { name: 'template with two variables in a segment', input: to({ pathTemplates: ['/c/{claims.a}{claims.b}'] }), problems: [/: a variable must be a whole segment/] },
  { name: 'template variable not bound to claims', input: to({ pathTemplates: ['/c/{id}'] }), problems: [/: \{id\}: variables are written \{claims\.<claim>\}/] },
  { name: 'template variable with a bad claim path', input: to({ pathTemplates: ['/c/{claims.}'] }), problems: [/: \{claims\.\}: empty claim path$/] },
  { name: 'template variable on scope', input: to({ pathTemplates: ['/c/{claims.scope}'] }), problems: [/: \{claims\.scope\}: "scope" is a list of scopes/] },
  { name: 'template unclosed variable', input: to({ pathTemplates: ['/c/{claims.id'] }), problems: [/: unclosed "\{" at character 4$/] },
  { name: 'template stray "}"', input: to({ pathTemplates: ['/c/id}'] }), problems: [/: unbalanced "\}"/] },
  { name: 'template "*" inside a segment', input: to({ pathTemplates: ['/c/a*'] }), problems: [/: "\*" and "\*\*" must be a whole segment/] },
  { name: 'template "**" before the end', input: to({ pathTemplates: ['/c/**/x'] }), problems: [/: "\*\*" may only be the last segment/] },
  { name: 'template "**" with a trailing slash', input: to({ pathTemplates: ['/c/**/'] }), problems: [/: "\*\*" may only be the last segment/] },
  { name: 'template with a dot segment', input: to({ pathTemplates: ['/c/../{claims.id}'] }), problems: [/: literal segments are not in normal form/] },
  { name: 'template with "//"', input: to({ pathTemplates: ['/c//{claims.id}'] }), problems: [/: empty segment \("\/\/"\)/] },
  { name: 'template with an encoded unreserved character', input: to({ pathTemplates: ['/%7Ec/{claims.id}'] }), problems: [/: literal segments are not in normal form/] },
  { name: 'template with an encoded slash', input: to({ pathTemplates: ['/a%2Fb/{claims.id}'] }), problems: [/: can never match: requests with such paths are refused/] },
  { name: 'template with a query', input: to({ pathTemplates: ['/c/x?y'] }), problems: [/: "\/c\/x\?y": templates match the path only; remove the query or fragment$/] },
  { name: 'template not starting with "/"', input: to({ pathTemplates: ['c/{claims.id}'] }), problems: [/: must start with "\/"$/] },

  // TCP context: request-level keys are refused, ipBlocks are fine.
  { name: 'tcp: "to" refused', tcp: true, input: doc({ to: [{ methods: ['GET'] }] }), problems: [/^rules\[0\]\.to: not available in a policy for TCP connections, which have no method or path; remove it/] },
  { name: 'tcp: v1 "to" refused too', tcp: true, input: v1({ to: [{ paths: ['/a'] }] }), problems: [/^rules\[0\]\.to: not available in a policy for TCP connections/] },
  { name: 'tcp: principals refused', tcp: true, input: from({ id: WEB, principals: ['*'] }), problems: [/^rules\[0\]\.from\[0\]\.principals: not available in a policy for TCP connections, which have no end-user token/] },
  { name: 'tcp: clients refused', tcp: true, input: from({ clients: ['a'] }), problems: [/\.clients: not available in a policy for TCP connections/] },
  { name: 'tcp: claims refused', tcp: true, input: from({ claims: [{ claim: 'a', equals: 1 }] }), problems: [/\.claims: not available in a policy for TCP connections/] },
  { name: 'tcp: remoteIpBlocks refused', tcp: true, input: from({ remoteIpBlocks: ['10.0.0.0/8'] }, { remoteAddress: EDGE }), problems: [/^remoteAddress: not available .* forwarding headers/, /\.remoteIpBlocks: not available in a policy for TCP connections, which have no forwarding headers/] },
];

for (const row of rows) {
  test(`parsePolicy rejects (version 2): ${row.name}`, () => {
    const got = problemsOf(row.input, row.tcp ? { context: 'tcp' } : undefined);
    assert.equal(got.length, row.problems.length, `problems: ${JSON.stringify(got, null, 2)}`);
    row.problems.forEach((re, i) => assert.match(got[i]!, re));
  });
}

const ok: { name: string; input: Record<string, unknown>; tcp?: true }[] = [
  { name: 'a version 1 rule set under version 2', input: doc({ to: [{ paths: ['/a'], methods: ['GET'] }] }) },
  { name: 'entry without a SPIFFE key', input: from({ principals: ['https://idp.example/*'] }) },
  { name: 'principal "*"', input: from({ principals: ['*'] }) },
  { name: 'deny and dry-run rules', input: doc({ action: 'deny', dryRun: true }) },
  { name: 'action allow said explicitly', input: doc({ action: 'allow', dryRun: false }) },
  { name: 'claims with every operator', input: from({ claims: [{ claim: 'a', equals: 1.5 }, { claim: 'b.c', anyOf: ['x', 2, false] }, { claim: '["x.y"]', contains: 'z' }] }) },
  { name: 'bare address as a /32 block', input: from({ ipBlocks: ['10.0.0.1', '::1'] }) },
  { name: 'templates with wildcards and bracketed claims', input: to({ pathTemplates: ['/', '/a/*/{claims["https://x/t"]}/**', '/b/{claims.org.id}/'] }) },
  { name: 'tcp: ipBlocks', tcp: true, input: from({ id: WEB, ipBlocks: ['10.0.0.0/8'] }) },
  { name: 'tcp: deny and dry-run rules', tcp: true, input: doc({ action: 'deny', dryRun: true }) },
  { name: 'trustedHops 0', input: doc({}, { remoteAddress: { ...EDGE, trustedHops: 0 } }) },
];
for (const row of ok) test(`parsePolicy accepts (version 2): ${row.name}`, () => assert.deepEqual(problemsOf(row.input, row.tcp ? { context: 'tcp' } : undefined), []));

test('parsePolicy accepts (version 2): remembers the context it was checked for', () => {
  assert.equal(parsePolicy(doc(), 'x', { context: 'tcp' }).context, 'tcp');
  assert.equal(parsePolicy(doc(), 'x').context, 'http');
});

const input = {
  version: 2,
  remoteAddress: { trustedCallers: ['spiffe://example.org/edge', 'spiffe://example.org/edges/*'], trustedHops: 2 },
  rules: [
    {
      name: 'own-accounts',
      from: [
        {
          idPrefix: 'spiffe://example.org/ns/web/*',
          principals: ['https://idp.example/*'],
          clients: ['web-app'],
          claims: [
            { claim: 'scope', contains: 'accounts:read' },
            { claim: 'org.id', equals: 'acme' },
            { claim: '["https://example.org/tier"]', anyOf: ['gold', 3, true] },
          ],
          ipBlocks: ['10.0.0.0/8', '2001:db8::/32'],
          remoteIpBlocks: ['198.51.100.0/24'],
        },
      ],
      to: [{ pathTemplates: ['/customers/{claims.customer_id}/accounts/*'], methods: ['GET'] }],
    },
    { name: 'blocked', action: 'deny', from: [{ claims: [{ claim: 'blocked', equals: true }] }] },
    { name: 'trial', action: 'deny', dryRun: true, from: [{ trustDomain: 'example.org' }], to: [{ pathPrefixes: ['/admin'] }] },
  ],
};

test('Policy.describe (version 2): round-trips: the description parses back to the same policy', () => {
  const d = parsePolicy(input, 'bank.yaml').describe();
  assert.equal(d.version, 2);
  assert.deepEqual(d.remoteAddress, input.remoteAddress);
  assert.deepEqual(d.rules, input.rules);
  const again = parsePolicy({ version: d.version ?? 1, remoteAddress: d.remoteAddress, rules: d.rules }, 'again').describe();
  assert.deepEqual(again.rules, d.rules);
  assert.ok(Object.isFrozen(d.rules[0]!.from[0]!.claims));
});

test('Policy.describe (version 2): shows canonical spellings', () => {
  const d = parsePolicy(
    doc({
      from: [{ ipBlocks: ['2001:DB8:0:0::0/32', '10.0.0.1'], claims: [{ claim: '["plain"]["a.b"]', equals: 1 }] }],
      to: [{ pathTemplates: ['/a/{claims["customer_id"]}'] }],
    }),
    'x',
  ).describe();
  assert.deepEqual(d.rules[0]!.from[0], { ipBlocks: ['2001:db8::/32', '10.0.0.1/32'], claims: [{ claim: 'plain["a.b"]', equals: 1 }] });
  assert.deepEqual(d.rules[0]!.to, [{ pathTemplates: ['/a/{claims.customer_id}'] }]);
});

test('Policy.describe (version 2): leaves version 1 descriptions as they were', () => {
  const d = parsePolicy({ version: 1, rules: [{ name: 'a', from: [{ id: WEB }] }] }, 'v1').describe();
  assert.deepEqual(d, { source: 'v1', allowAll: false, rules: [{ name: 'a', from: [{ id: WEB }] }] });
});

test('loadPolicyText (version 2): passes the context on', () => {
  const text = 'version: 2\nrules:\n  - name: a\n    from: [{ id: "spiffe://example.org/web" }]\n    to: [{ methods: [GET] }]\n';
  assert.equal(loadPolicyText(text, 'p.yaml').rules.length, 1);
  assert.throws(() => loadPolicyText(text, 'p.yaml', { context: 'tcp' }), (err: unknown) => err instanceof PolicyError && /rules\[0\]\.to: not available/.test(err.message));
});
