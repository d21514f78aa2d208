import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError, parsePolicy } from '../../../sidecar/policy/index.ts';

/** A valid document; rows replace parts of it. */
function doc(rule: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    rules: [{ name: 'r', from: [{ id: 'spiffe://example.org/frontend' }], ...rule }],
    ...top,
  };
}
const to = (entry: unknown): Record<string, unknown> => doc({ to: [entry] });
const from = (entry: unknown): Record<string, unknown> => doc({ from: [entry] });

function problemsOf(input: unknown): readonly string[] {
  try {
    parsePolicy(input, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected PolicyError, got ${String(err)}`);
    assert.equal(err.code, 'policy.invalid');
    return err.problems;
  }
  return [];
}

type Row = { name: string; input: unknown; problems: RegExp[] };

// One row per validation rule; each expects exactly the listed problems, so a
// removed check shows up as a missing problem (or as a document that loads).
const rows: Row[] = [
  // Document.
  { name: 'document not an object', input: [], problems: [/^\(document\): expected an object .* got a list$/] },
  { name: 'document null (empty file)', input: null, problems: [/^\(document\): .* got null$/] },
  { name: 'unknown top-level key', input: doc({}, { rule: [] }), problems: [/^rule: unknown key \(expected version, rules\); did you mean "rules"\?$/] },
  { name: 'version missing', input: { rules: [] }, problems: [/^version: required/] },
  { name: 'version unsupported', input: doc({}, { version: 3 }), problems: [/^version: unsupported version 3; this sidecar reads versions 1 and 2$/] },
  { name: 'version as a string', input: doc({}, { version: '1' }), problems: [/^version: unsupported version "1"/] },
  { name: 'rules missing', input: { version: 1 }, problems: [/^rules: required/] },
  { name: 'rules not a list', input: { version: 1, rules: 'yes' }, problems: [/^rules: expected a list, got string "yes"$/] },
  { name: 'rule not an object', input: { version: 1, rules: ['r'] }, problems: [/^rules\[0\]: expected a rule object/] },
  { name: 'unknown rule key', input: doc({ form: [] }), problems: [/^rules\[0\]\.form: unknown key \(expected name, from, to\)$/] },
  { name: 'unknown key with a suggestion', input: doc({ From: [] }), problems: [/^rules\[0\]\.From: unknown key .* did you mean "from"\?$/] },
  { name: 'odd key quoted', input: doc({ 'a\nb': 1 }), problems: [/^rules\[0\]\."a\\u000ab": unknown key/] },

  // Rule names.
  { name: 'name missing', input: { version: 1, rules: [{ from: [{ trustDomain: 'a' }] }] }, problems: [/^rules\[0\]\.name: required$/] },
  { name: 'name not a string', input: doc({ name: 7 }), problems: [/^rules\[0\]\.name: expected a string, got number 7$/] },
  { name: 'name with a space', input: doc({ name: 'a b' }), problems: [/^rules\[0\]\.name: "a b" is not a valid rule name/] },
  { name: 'name starting with a dash', input: doc({ name: '-a' }), problems: [/^rules\[0\]\.name: "-a" is not a valid rule name/] },
  { name: 'name of 64 characters', input: doc({ name: 'a'.repeat(64) }), problems: [/^rules\[0\]\.name: .* is not a valid rule name/] },
  {
    name: 'duplicate rule names',
    input: {
      version: 1,
      rules: [
        { name: 'same', from: [{ trustDomain: 'a' }] },
        { name: 'other', from: [{ trustDomain: 'a' }] },
        { name: 'same', from: [{ trustDomain: 'b' }] },
      ],
    },
    problems: [/^rules\[2\]\.name: duplicate rule name "same" \(first used at rules\[0\]\)$/],
  },

  // from.
  { name: 'from missing', input: { version: 1, rules: [{ name: 'r' }] }, problems: [/^rules\[0\]\.from: required/] },
  { name: 'from not a list', input: doc({ from: { id: 'spiffe://a/b' } }), problems: [/^rules\[0\]\.from: expected a list, got an object$/] },
  { name: 'from empty', input: doc({ from: [] }), problems: [/^rules\[0\]\.from: empty list/] },
  { name: 'from entry a bare string', input: from('spiffe://a/b'), problems: [/^rules\[0\]\.from\[0\]: expected an object .* \(write "- id: spiffe:\/\/a\/b"\)$/] },
  { name: 'from entry with no key', input: from({}), problems: [/^rules\[0\]\.from\[0\]: needs one of id, idPrefix, trustDomain$/] },
  {
    name: 'from entry with two keys',
    input: from({ id: 'spiffe://a/b', trustDomain: 'a' }),
    problems: [/^rules\[0\]\.from\[0\]: give exactly one of id, idPrefix, trustDomain per entry \(got id, trustDomain\)$/],
  },
  {
    name: 'from entry with an unknown key',
    input: from({ spiffeId: 'spiffe://a/b' }),
    problems: [/^rules\[0\]\.from\[0\]\.spiffeId: unknown key/, /^rules\[0\]\.from\[0\]: needs one of/],
  },
  { name: 'id not a string', input: from({ id: 1 }), problems: [/^rules\[0\]\.from\[0\]\.id: expected a string, got number 1$/] },
  {
    name: 'id invalid, with location and reason',
    input: doc({ from: [{ trustDomain: 'a' }, { id: 'spiffe://Example.org/x' }] }),
    problems: [/^rules\[0\]\.from\[1\]\.id: invalid SPIFFE ID "spiffe:\/\/Example\.org\/x": trust domain characters are limited to .*[a-z]$/],
  },
  { name: 'id with an empty segment', input: from({ id: 'spiffe://a/b//c' }), problems: [/^rules\[0\]\.from\[0\]\.id: invalid SPIFFE ID .*: a path cannot contain empty segments$/] },
  { name: 'id of a trust domain (no path)', input: from({ id: 'spiffe://a' }), problems: [/^rules\[0\]\.from\[0\]\.id: .* no workload has; .* "trustDomain: a"$/] },
  { name: 'id with a wildcard', input: from({ id: 'spiffe://a/b/*' }), problems: [/^rules\[0\]\.from\[0\]\.id: .* contains "\*"; use idPrefix/] },
  { name: 'idPrefix without /*', input: from({ idPrefix: 'spiffe://a/b' }), problems: [/^rules\[0\]\.from\[0\]\.idPrefix: "spiffe:\/\/a\/b" must end with "\/\*"/] },
  { name: 'idPrefix with a trailing * but no slash', input: from({ idPrefix: 'spiffe://a/b*' }), problems: [/^rules\[0\]\.from\[0\]\.idPrefix: .* must end with "\/\*"/] },
  { name: 'idPrefix with an inner *', input: from({ idPrefix: 'spiffe://a/*/x/*' }), problems: [/^rules\[0\]\.from\[0\]\.idPrefix: .* only one "\*", as the last path segment/] },
  { name: 'idPrefix with an invalid base', input: from({ idPrefix: 'spiffe://a//*' }), problems: [/^rules\[0\]\.from\[0\]\.idPrefix: invalid SPIFFE ID prefix "spiffe:\/\/a\/\/\*": a path cannot end with a slash$/] },
  { name: 'trustDomain given as an ID', input: from({ trustDomain: 'spiffe://partner.org/ns/x' }), problems: [/^rules\[0\]\.from\[0\]\.trustDomain: .* give the bare trust domain name/] },
  { name: 'trustDomain with a port', input: from({ trustDomain: 'partner.org:443' }), problems: [/^rules\[0\]\.from\[0\]\.trustDomain: .* give the bare trust domain name/] },
  { name: 'trustDomain uppercase', input: from({ trustDomain: 'Partner.org' }), problems: [/^rules\[0\]\.from\[0\]\.trustDomain: invalid trust domain "Partner\.org": trust domain characters/] },
  { name: 'trustDomain empty', input: from({ trustDomain: '' }), problems: [/^rules\[0\]\.from\[0\]\.trustDomain: invalid trust domain "": the trust domain is missing$/] },

  // to.
  { name: 'to null', input: doc({ to: null }), problems: [/^rules\[0\]\.to: expected a list, got null$/] },
  { name: 'to empty', input: doc({ to: [] }), problems: [/^rules\[0\]\.to: empty list \(omit "to" to allow any request\)$/] },
  { name: 'to entry not an object', input: to('/api'), problems: [/^rules\[0\]\.to\[0\]: expected an object/] },
  { name: 'to entry empty', input: to({}), problems: [/^rules\[0\]\.to\[0\]: needs paths, pathPrefixes or methods/] },
  { name: 'pathPrefix suggests pathPrefixes', input: to({ methods: ['GET'], pathPrefix: ['/a'] }), problems: [/^rules\[0\]\.to\[0\]\.pathPrefix: unknown key .* did you mean "pathPrefixes"\?$/] },
  { name: 'method suggests methods', input: to({ paths: ['/a'], method: 'GET' }), problems: [/^rules\[0\]\.to\[0\]\.method: unknown key .* did you mean "methods"\?$/] },
  { name: 'paths not a list', input: to({ paths: '/a' }), problems: [/^rules\[0\]\.to\[0\]\.paths: expected a list, got string "\/a"$/] },
  { name: 'paths empty', input: to({ paths: [] }), problems: [/^rules\[0\]\.to\[0\]\.paths: empty list/] },
  { name: 'path not a string', input: to({ paths: [1] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: expected a string, got number 1$/] },
  { name: 'path without a leading slash', input: to({ paths: ['api'] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: "api": must start with "\/"$/] },
  { name: 'path "/" alone', input: to({ paths: ['/'] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: "\/": would match every path/] },
  { name: 'path with a query', input: to({ paths: ['/a?x=1'] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: .*: policies match the path only/] },
  { name: 'path with a wildcard', input: to({ paths: ['/api/*'] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: .*: wildcards are not supported/] },
  { name: 'path with a dot segment', input: to({ paths: ['/a/../b'] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: "\/a\/\.\.\/b": not in normal form, so it could never match; write "\/b"$/] },
  { name: 'path with a double slash', input: to({ paths: ['/a//b'] }), problems: [/: not in normal form, .* write "\/a\/b"$/] },
  { name: 'path with an encoded unreserved character', input: to({ paths: ['/%7euser'] }), problems: [/: not in normal form, .* write "\/~user"$/] },
  { name: 'path the normaliser refuses', input: to({ paths: ['/a;b'] }), problems: [/^rules\[0\]\.to\[0\]\.paths\[0\]: "\/a;b": can never match: requests with it are refused \(semicolon/] },
  { name: 'path with an encoded slash', input: to({ paths: ['/a%2Fb'] }), problems: [/: can never match: .*%2F, %5C/] },
  { name: 'pathPrefixes checked like paths', input: to({ pathPrefixes: ['api'] }), problems: [/^rules\[0\]\.to\[0\]\.pathPrefixes\[0\]: "api": must start with "\/"$/] },
  { name: 'pathPrefixes empty', input: to({ pathPrefixes: [] }), problems: [/^rules\[0\]\.to\[0\]\.pathPrefixes: empty list/] },
  { name: 'methods not a list', input: to({ methods: 'GET' }), problems: [/^rules\[0\]\.to\[0\]\.methods: expected a list/] },
  { name: 'methods empty', input: to({ methods: [] }), problems: [/^rules\[0\]\.to\[0\]\.methods: empty list/] },
  { name: 'method lowercase', input: to({ methods: ['get'] }), problems: [/^rules\[0\]\.to\[0\]\.methods\[0\]: "get": methods are case-sensitive .* did you mean "GET"\?$/] },
  { name: 'method not a token', input: to({ methods: ['GE T'] }), problems: [/^rules\[0\]\.to\[0\]\.methods\[0\]: "GE T": not a valid method name/] },
  { name: 'method empty', input: to({ methods: [''] }), problems: [/^rules\[0\]\.to\[0\]\.methods\[0\]: "": not a valid method name/] },
  { name: 'method not a string', input: to({ methods: [null] }), problems: [/^rules\[0\]\.to\[0\]\.methods\[0\]: expected a string, got null$/] },
];

for (const row of rows) {
  test(`parsePolicy rejects: ${row.name}`, () => {
    const got = problemsOf(row.input);
    assert.equal(got.length, row.problems.length, `problems: ${JSON.stringify(got, null, 2)}`);
    row.problems.forEach((re, i) => assert.match(got[i]!, re));
  });
}

const ok: { name: string; input: Record<string, unknown> }[] = [
  { name: 'the base document', input: doc() },
  { name: 'an empty rule list (deny everything)', input: { version: 1, rules: [] } },
  { name: 'custom method tokens', input: to({ methods: ['PURGE', 'M-SEARCH'] }) },
  { name: 'idPrefix of a whole trust domain', input: from({ idPrefix: 'spiffe://example.org/*' }) },
  { name: 'pathPrefixes "/" (everything, said explicitly)', input: to({ pathPrefixes: ['/'] }) },
  { name: 'paths with sub-delims and encoded reserved characters', input: to({ paths: ['/a:b@c', '/a%3Bb'] }) },
];
for (const row of ok) test(`parsePolicy accepts: ${row.name}`, () => assert.deepEqual(problemsOf(row.input), []));

test('parsePolicy errors: collects every problem into one error, each with its location, and names the source', () => {
  const input = {
    version: 1,
    rules: [
      { name: 'a', from: [{ id: 'spiffe://a/b' }, { id: 'nope' }] },
      { name: 'b', from: [{ trustDomain: 'x' }], to: [{ methods: ['get'], paths: ['x'] }] },
    ],
  };
  assert.throws(
    () => parsePolicy(input, '/etc/sidecar/policy.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError);
      assert.equal(err.code, 'policy.invalid');
      assert.equal(err.problems.length, 3);
      assert.match(err.message, /^policy: invalid policy \/etc\/sidecar\/policy\.yaml \(3 problems\):\n/);
      assert.match(err.message, /\n  - rules\[0\]\.from\[1\]\.id: invalid SPIFFE ID "nope": the scheme must be/);
      assert.match(err.message, /\n  - rules\[1\]\.to\[0\]\.paths\[0\]: "x": must start with/);
      assert.match(err.message, /\n  - rules\[1\]\.to\[0\]\.methods\[0\]: "get": /);
      return true;
    },
  );
});

test('parsePolicy errors: reports a JSON "__proto__" key as unknown rather than reading through it', () => {
  const input = JSON.parse('{"version":1,"rules":[],"__proto__":{"x":1}}') as unknown;
  assert.match(problemsOf(input)[0] ?? '', /^__proto__: unknown key/);
});

test('Policy.describe: shows the canonical document, which parses back to the same policy', () => {
  const input = {
    version: 1,
    rules: [
      {
        name: 'frontend-reads',
        from: [
          { id: 'spiffe://example.org/frontend' },
          { idPrefix: 'spiffe://example.org/ns/payments/*' },
          { trustDomain: 'partner.org' },
        ],
        to: [{ paths: ['/api/', '/healthz'], methods: ['GET', 'HEAD'] }],
      },
      { name: 'tcp', from: [{ id: 'spiffe://example.org/db' }] },
    ],
  };
  const p = parsePolicy(input, 'a.yaml');
  const d = p.describe();
  assert.equal(d.source, 'a.yaml');
  assert.equal(d.allowAll, false);
  assert.deepEqual(d.rules, input.rules);
  assert.ok(Object.isFrozen(d.rules[0]!.from));
  assert.deepEqual(parsePolicy({ version: 1, rules: d.rules }, 'again').describe().rules, d.rules);
  assert.equal(String(p), 'policy a.yaml: 2 rules');
});
