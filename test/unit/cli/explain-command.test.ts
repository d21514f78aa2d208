/** `spiffe-sidecar explain` in-process: exit statuses, the answer mapping, token and request flags, policy sources. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../../sidecar/cli/dispatch.ts';
import { explainRequest, principalFrom, type RequestFlags, type TokenFlags } from '../../../sidecar/cli/explain.ts';
import { debugPolicyUrl, policyFromDescription } from '../../../sidecar/cli/explain-policy-source.ts';
import { UsageError } from '../../../sidecar/cli/io.ts';
import { allowAll, evaluate, parsePolicy, sameTrustDomainPolicy } from '../../../sidecar/policy/index.ts';
import { SpiffeId, TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { fakeIo } from './fake-io.ts';

const WEB = 'spiffe://bank.example/web';
const BATCH = 'spiffe://bank.example/batch';

const DOC = {
  version: 2,
  remoteAddress: { trustedCallers: ['spiffe://bank.example/edge'], trustedHops: 1 },
  rules: [
    { name: 'read', from: [{ id: WEB }], to: [{ paths: ['/read'], methods: ['GET'] }] },
    { name: 'gold', from: [{ id: WEB, claims: [{ claim: 'tier', equals: 'gold' }] }], to: [{ pathPrefixes: ['/gold'] }] },
    { name: 'batch', from: [{ id: BATCH }] },
    { name: 'deny-admin', action: 'deny', from: [{ trustDomain: 'bank.example' }], to: [{ pathPrefixes: ['/admin'] }] },
    { name: 'try-reports', dryRun: true, from: [{ id: WEB }], to: [{ pathPrefixes: ['/reports'] }] },
  ],
};

let dir: string;
let policyFile: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'explain-'));
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(DOC));
  writeFileSync(join(dir, 'bad.yaml'), 'version: 2\nrules:\n  - name: a\n    from: [{idd: "spiffe://bank.example/x"}]\n');
  writeFileSync(join(dir, 'claims.json'), JSON.stringify({ iss: 'https://idp.example', sub: 'alice', tier: 'gold' }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = fakeIo();
  const code = await dispatch(['explain', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

test('exit status and answered status: one row per decision', async () => {
  const rows: Array<[string, string[], number, number | null, RegExp]> = [
    ['allowed', ['--caller', WEB, '--path', '/read'], 0, null, /^decision: {2}allow, by rule read: forwarded to the app$/m],
    ['principal_required → 401', ['--caller', WEB, '--path', '/gold/x'], 1, 401, /^decision: {2}deny \(principal_required\): answered 401 /m],
    ['with the token: allowed', ['--caller', WEB, '--path', '/gold/x', '--claims-file', join(dir, 'claims.json')], 0, null, /by rule gold/],
    ['denied_by_rule → 403', ['--caller', BATCH, '--method', 'DELETE', '--path', '/admin/x'], 1, 403, /deny \(denied_by_rule\)/],
    ['caller_not_listed → 403', ['--caller', 'spiffe://bank.example/nobody', '--path', '/read'], 1, 403, /deny \(caller_not_listed\)/],
    ['no_matching_rule → 403', ['--caller', WEB, '--method', 'POST', '--path', '/read'], 1, 403, /to\[0\]\.methods: method "POST" is not one of \[GET\]/],
    ['bad_path → 400', ['--caller', WEB, '--path', '/a%2fb'], 1, 400, /deny \(bad_path\): answered 400/],
    ['TCP allowed', ['--caller', BATCH], 0, null, /connection joined to the app/],
    ['TCP denied: no status', ['--caller', WEB], 1, null, /deny \(no_matching_rule\): connection closed/],
  ];
  for (const [name, args, code, status, text] of rows) {
    const r = await run('--policy', policyFile, ...args);
    assert.equal(r.code, code, `${name}: ${r.err}`);
    assert.match(r.out, text, name);
    const json = await run('--policy', policyFile, ...args, '--output', 'json');
    assert.equal(json.code, code, name);
    const doc = JSON.parse(json.out) as { status: number | null; decision: string };
    assert.equal(doc.status, status, name);
    assert.equal(doc.decision, code === 0 ? 'allow' : 'deny', name);
  }
});

test('the JSON document: decision, normalised path, dry runs and every rule', async () => {
  const r = await run('--policy', policyFile, '--caller', WEB, '--path', '/x/../reports/q1?y=2', '--output', 'json');
  const doc = JSON.parse(r.out) as {
    reason: string;
    request: { normalizedPath: string; method: string };
    dryRun: unknown;
    rules: Array<{ name: string }>;
    policy: { source: string };
  };
  assert.equal(doc.reason, 'no_matching_rule');
  assert.equal(doc.request.normalizedPath, '/reports/q1');
  assert.equal(doc.request.method, 'GET', '--path alone means GET');
  assert.deepEqual(doc.dryRun, [{ rule: 'try-reports', outcome: 'would_allow' }]);
  assert.deepEqual(doc.rules.map((x) => x.name), DOC.rules.map((x) => x.name));
  assert.equal(doc.policy.source, policyFile);
});

test('usage errors exit 2: one row per rule', async () => {
  const rows: Array<[string, string[], RegExp]> = [
    ['no policy', ['--caller', WEB], /exactly one of --policy FILE and --admin URL/],
    ['both sources', ['--policy', policyFile, '--admin', 'http://127.0.0.1:1', '--caller', WEB], /exactly one of/],
    ['no caller', ['--policy', policyFile], /--caller SPIFFE-ID is required/],
    ['bad caller', ['--policy', policyFile, '--caller', 'https://x'], /--caller: /],
    ['claims not JSON', ['--policy', policyFile, '--caller', WEB, '--claims', '{'], /--claims: not JSON/],
    ['claims not an object', ['--policy', policyFile, '--caller', WEB, '--claims', '[1]'], /expected a JSON object/],
    ['both claims flags', ['--policy', policyFile, '--caller', WEB, '--claims', '{}', '--claims-file', 'x'], /--claims or --claims-file, not both/],
    ['bad output', ['--policy', policyFile, '--caller', WEB, '--output', 'yaml'], /--output/],
    ['admin not http', ['--admin', 'https://127.0.0.1:1', '--caller', WEB], /plain http:\/\//],
  ];
  for (const [name, args, message] of rows) {
    const r = await run(...args);
    assert.equal(r.code, 2, name);
    assert.match(r.err, message, name);
    assert.equal(r.out, '', name);
  }
});

test('no policy to decide with exits 2, never 1 (which means denied)', async () => {
  const bad = await run('--policy', join(dir, 'bad.yaml'), '--caller', WEB);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bad\.yaml: rules\[0\]\.from\[0\]\.idd: unknown key/);
  const missing = await run('--policy', join(dir, 'missing.yaml'), '--caller', WEB);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read .*missing\.yaml: no such file or directory \(ENOENT\) \[explain\.policy_unreadable\]/);
});

test('principalFrom: built as auth builds a verified token', () => {
  const rows: Array<[string, TokenFlags, Partial<Record<'issuer' | 'subject' | 'clientId', string>> & { scopes?: string[] }]> = [
    ['iss and sub from claims', { claims: { iss: 'https://i', sub: 'a' } }, { issuer: 'https://i', subject: 'a' }],
    ['flags win over claims', { claims: { iss: 'https://i', sub: 'a' }, issuer: 'https://j', subject: 'b' }, { issuer: 'https://j', subject: 'b' }],
    ['no sub: empty subject', { issuer: 'https://i' }, { subject: '' }],
    ['client_id first', { issuer: 'https://i', claims: { client_id: 'c', azp: 'z' } }, { clientId: 'c' }],
    ['azp otherwise', { issuer: 'https://i', claims: { azp: 'z' } }, { clientId: 'z' }],
    ['--client-id', { issuer: 'https://i', clientId: 'f', claims: { azp: 'z' } }, { clientId: 'f' }],
    ['scope split on spaces', { issuer: 'https://i', claims: { scope: 'a  b' } }, { scopes: ['a', 'b'] }],
    ['scp list', { issuer: 'https://i', claims: { scp: ['x', 'y'] } }, { scopes: ['x', 'y'] }],
    ['--scope repeatable and split', { issuer: 'https://i', scopes: ['a b', 'c'], claims: { scope: 'z' } }, { scopes: ['a', 'b', 'c'] }],
  ];
  for (const [name, flags, want] of rows) {
    const p = principalFrom(flags)!;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(p[k as keyof typeof p], v, name);
  }
  assert.equal(principalFrom({}), undefined, 'no token flags: no token');
  assert.throws(() => principalFrom({ claims: { sub: 'a' } }), UsageError, 'a token needs an issuer');
  const p = principalFrom({ issuer: 'https://j', subject: 'b', scopes: ['s'], claims: { iss: 'https://i', sub: 'a', scope: 'z' } })!;
  assert.deepEqual([p.claims['iss'], p.claims['sub'], p.claims['scope']], ['https://j', 'b', 's'], 'claim conditions see what the flags say');
});

test('explainRequest: one row per rule', () => {
  const base: RequestFlags = { caller: WEB };
  const ok = (f: Partial<RequestFlags>) => explainRequest({ ...base, ...f });
  assert.deepEqual(ok({ path: '/a' }).method, 'GET');
  assert.deepEqual(ok({ path: '/a', method: 'get' }).method, 'get', 'methods stay case-sensitive');
  assert.equal(ok({}).method, undefined, 'no path: TCP');
  assert.deepEqual(ok({ forwardedFor: ['203.0.113.1, 198.51.100.7:443', '192.0.2.9'] }).forwardedFor, ['203.0.113.1', '198.51.100.7', '192.0.2.9']);
  assert.equal(ok({ peerAddress: '::ffff:10.0.0.1' }).peerAddress, '::ffff:10.0.0.1');
  const bad: Array<[Partial<RequestFlags>, RegExp]> = [
    [{ caller: undefined }, /required/],
    [{ caller: 'spiffe://Bank.example/x' }, /--caller/],
    [{ method: 'GET' }, /--method needs --path/],
    [{ peerAddress: '10.0.0' }, /--peer-address/],
    [{ forwardedFor: ['1.2.3.4,,5.6.7.8'] }, /--forwarded-for: .*empty element/],
  ];
  for (const [f, message] of bad) assert.throws(() => ok(f), (err: unknown) => err instanceof UsageError && message.test(err.message), String(message));
});

test('policyFromDescription: what /debug/policy serves decides as the original', () => {
  const original = parsePolicy(DOC, 'p');
  const rebuilt = policyFromDescription(JSON.parse(JSON.stringify(original.describe())), 'admin');
  const req = { peerId: SpiffeId.parse('spiffe://bank.example/edge'), method: 'GET', path: '/read', forwardedFor: ['198.51.100.1'] };
  assert.deepEqual(rebuilt.describe().rules, original.describe().rules);
  assert.deepEqual(rebuilt.describe().remoteAddress, original.describe().remoteAddress);
  assert.deepEqual(evaluate(rebuilt, req), evaluate(original, req));
  assert.equal(policyFromDescription(JSON.parse(JSON.stringify(allowAll.describe())), 'admin'), allowAll);
  const td = policyFromDescription(JSON.parse(JSON.stringify(sameTrustDomainPolicy(TrustDomain.parse('bank.example')).describe())), 'admin');
  assert.equal(evaluate(td, { peerId: SpiffeId.parse(WEB) }).allow, true);
  assert.equal(evaluate(td, { peerId: SpiffeId.parse('spiffe://other.example/x') }).allow, false);
  for (const junk of [null, [], { rules: 'x' }, { version: 2, rules: [{ name: 'a' }] }]) {
    assert.throws(() => policyFromDescription(junk, 'admin'), { code: 'explain.admin_answer' }, JSON.stringify(junk));
  }
});

test('debugPolicyUrl: /debug/policy under the admin URL', () => {
  assert.equal(debugPolicyUrl('http://127.0.0.1:15000').href, 'http://127.0.0.1:15000/debug/policy');
  assert.equal(debugPolicyUrl('http://127.0.0.1:15000/').href, 'http://127.0.0.1:15000/debug/policy');
  assert.equal(debugPolicyUrl('http://localhost:8080/sidecar').href, 'http://localhost:8080/sidecar/debug/policy');
  for (const bad of ['127.0.0.1:15000', 'https://127.0.0.1:1', 'http://u:p@127.0.0.1:1', 'http://127.0.0.1:1/?x=1']) {
    assert.throws(() => debugPolicyUrl(bad), UsageError, bad);
  }
});
