/**
 * The enforcement stage as a table: each row is a request record (no
 * sockets) plus what the token check says, and the expected local answer
 * or forwarded head. The authenticator here replays a given TokenOutcome,
 * so every outcome (including "issuer unreachable") has a row; the real
 * authenticator is exercised against real issuers in test/integration/auth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenOutcome, VerifiedToken } from '../../../sidecar/auth/verified-token.ts';
import { INBOUND_ANSWERS, INVALID_TOKEN_ANSWERS, InboundEnforcement, type InboundRequest, type LocalAnswer, type RequestAuthenticator } from '../../../sidecar/enforcement/index.ts';
import { IdentityHeaders, type CallerIdentity } from '../../../sidecar/headers/index.ts';
import { parsePolicy } from '../../../sidecar/policy/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

const WEB = 'spiffe://bank.example/web';
const EDGE = 'spiffe://bank.example/edge';
const ISS = 'https://idp.example';
const caller = (id: string): CallerIdentity => ({ peerId: id, xfcc: `By=spiffe://bank.example/accounts;Hash=ab;URI=${id}` });

const policy = parsePolicy(
  {
    version: 2,
    rules: [
      { name: 'own-accounts', from: [{ id: WEB, principals: [`${ISS}/*`] }], to: [{ pathTemplates: ['/customers/{claims.customer_id}/accounts'], methods: ['GET'] }] },
      { name: 'health', from: [{ id: WEB }], to: [{ paths: ['/health'] }] },
      { name: 'no-blocked', action: 'deny', from: [{ id: WEB, claims: [{ claim: 'blocked', equals: true }] }] },
      { name: 'try-admin', dryRun: true, from: [{ id: WEB }], to: [{ paths: ['/admin'] }] },
    ],
  },
  'table',
);

function token(claims: Record<string, unknown>, over: Partial<VerifiedToken> = {}): VerifiedToken {
  return {
    provider: 'corp',
    kind: 'jwt',
    issuer: ISS,
    subject: String(claims['sub'] ?? ''),
    clientId: 'web-app',
    scopes: ['accounts:read'],
    audiences: ['accounts'],
    expiresAtMs: Date.now() + 60_000,
    certThumbprint: undefined,
    claims,
    jwt: 'header.payload.sig',
    ...over,
  };
}
const alice = token({ sub: 'alice', customer_id: 'c-1' });

/** Replays `outcome`; strips `authorization` as the real one does for the default location. */
class Replay implements RequestAuthenticator {
  readonly outcome: TokenOutcome | Promise<TokenOutcome>;
  calls = 0;
  constructor(outcome: TokenOutcome | Promise<TokenOutcome>) {
    this.outcome = outcome;
  }
  authenticate(): TokenOutcome | Promise<TokenOutcome> {
    this.calls++;
    return this.outcome;
  }
  withoutCredentials(headers: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i]!.toLowerCase() !== 'authorization') out.push(headers[i]!, headers[i + 1]!);
    return out;
  }
}

function request(path: string, o: { peer?: string; method?: string; headers?: string[]; upgrade?: string } = {}): InboundRequest {
  const peer = o.peer ?? WEB;
  return {
    conn: { peer: SpiffeId.parse(peer), caller: caller(peer), peerCertSha256Hex: 'ab', peerAddress: '10.0.0.7' },
    method: o.method ?? 'GET',
    path,
    upgrade: o.upgrade ?? '',
    headers: o.headers ?? ['host', 'accounts', 'authorization', 'Bearer t'],
    target: path,
    decision: '',
    rule: '',
    subject: '',
    clientId: '',
  };
}

const valid = (t: VerifiedToken): TokenOutcome => ({ kind: 'valid', token: t });

const rows: { name: string; path: string; outcome: TokenOutcome; peer?: string; upgrade?: string; answer: LocalAnswer | null; rule?: string }[] = [
  { name: 'alice reads her own accounts', path: '/customers/c-1/accounts', outcome: valid(alice), answer: null, rule: 'own-accounts' },
  { name: "alice on bob's accounts", path: '/customers/c-2/accounts', outcome: valid(alice), answer: INBOUND_ANSWERS.no_matching_rule },
  { name: 'no token where a principal is required', path: '/customers/c-1/accounts', outcome: { kind: 'none' }, answer: INBOUND_ANSWERS.principal_required },
  { name: 'no token where none is needed', path: '/health', outcome: { kind: 'none' }, answer: null, rule: 'health' },
  { name: 'invalid token is 401 even where none is needed', path: '/health', outcome: { kind: 'invalid', reason: 'expired', provider: 'corp', detail: 'exp in the past' }, answer: INBOUND_ANSWERS.invalid_token },
  { name: 'issuer unreachable fails closed', path: '/health', outcome: { kind: 'unavailable', reason: 'keys_unavailable', provider: 'corp', detail: 'connect refused' }, answer: INBOUND_ANSWERS.token_unavailable },
  { name: 'two tokens', path: '/health', outcome: { kind: 'bad_request', reason: 'multiple_tokens', detail: 'two Authorization headers' }, answer: INBOUND_ANSWERS.multiple_tokens },
  { name: 'oversized token', path: '/health', outcome: { kind: 'bad_request', reason: 'token_too_large', detail: '9000 bytes' }, answer: INBOUND_ANSWERS.token_too_large },
  { name: 'deny rule wins over allow', path: '/customers/c-1/accounts', outcome: valid(token({ sub: 'alice', customer_id: 'c-1', blocked: true })), answer: INBOUND_ANSWERS.denied_by_rule, rule: 'no-blocked' },
  { name: 'dry-run allow does not allow', path: '/admin', outcome: { kind: 'none' }, answer: INBOUND_ANSWERS.no_matching_rule },
  { name: 'caller not listed', path: '/health', peer: EDGE, outcome: { kind: 'none' }, answer: INBOUND_ANSWERS.caller_not_listed },
  { name: 'bad path is 400', path: '/customers/..%2Fc-2/accounts', outcome: valid(alice), answer: INBOUND_ANSWERS.bad_path },
  { name: 'WebSocket not permitted', path: '/health', upgrade: 'websocket', outcome: { kind: 'none' }, answer: INBOUND_ANSWERS.upgrade_not_allowed },
];

for (const row of rows) {
  test(`enforcement: ${row.name}`, () => {
    const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: new Replay(row.outcome) });
    const req = request(row.path, { ...(row.peer ? { peer: row.peer } : {}), ...(row.upgrade ? { upgrade: row.upgrade } : {}) });
    const got = stage.decide(req);
    assert.ok(!(got instanceof Promise), 'a replayed outcome is decided synchronously');
    if (row.answer === null) {
      assert.equal(got, null);
      assert.equal(req.decision, 'allow');
    } else {
      assert.ok(got !== null);
      assert.equal(got.reason, row.answer.reason);
      assert.equal(got.status, row.answer.status);
      assert.equal(req.decision, 'deny');
    }
    if (row.rule !== undefined) assert.equal(req.rule, row.rule);
  });
}

test('statuses and challenges: 401 carries WWW-Authenticate per RFC 6750 §3', () => {
  assert.deepEqual(INBOUND_ANSWERS.invalid_token.headers, ['www-authenticate', 'Bearer error="invalid_token"']);
  for (const [reason, a] of Object.entries(INVALID_TOKEN_ANSWERS)) {
    assert.equal(a.status, 401, reason);
    assert.equal(a.reason, 'invalid_token', 'one metric label for every refused token');
    assert.match(a.headers[1]!, /^Bearer error="invalid_token", error_description="[^"\\]+"$/, reason);
  }
  assert.deepEqual(INBOUND_ANSWERS.principal_required.headers, ['www-authenticate', 'Bearer']);
  assert.equal(INBOUND_ANSWERS.token_unavailable.status, 503);
  assert.deepEqual(INBOUND_ANSWERS.token_unavailable.headers, ['retry-after', '5']);
});

test('a refused token says why: expired is not a bad signature', () => {
  const stage = new InboundEnforcement({
    policy: () => policy,
    headers: new IdentityHeaders(),
    authenticator: new Replay({ kind: 'invalid', reason: 'expired', provider: 'corp', detail: 'exp in the past' }),
  });
  const a = stage.decide(request('/health')) as LocalAnswer;
  assert.equal(a.status, 401);
  assert.equal(a.body, 'invalid token: the token has expired');
  assert.equal(a.headers[1], 'Bearer error="invalid_token", error_description="the token has expired"');
});

test('allowed: the token is removed, verified identity set, spoofed identity dropped, target normalised', () => {
  const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: new Replay(valid(alice)) });
  const req = request('/customers/c-1/./accounts', { headers: ['host', 'a', 'authorization', 'Bearer t', 'x-auth-subject', 'mallory', 'x-client-spiffe-id', 'spiffe://x/admin'] });
  assert.equal(stage.decide(req), null);
  assert.equal(req.target, '/customers/c-1/accounts');
  assert.equal(req.subject, 'alice');
  assert.equal(req.clientId, 'web-app');
  const h = req.headers;
  assert.ok(!h.includes('Bearer t'), 'token removed before the app');
  assert.ok(!h.includes('mallory') && !h.includes('spiffe://x/admin'), 'spoofed identity removed');
  assert.equal(h[h.indexOf('x-auth-subject') + 1], 'alice');
  assert.equal(h[h.indexOf('x-client-spiffe-id') + 1], WEB);
});

test('forwardToken keeps the credential for the app', () => {
  const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: new Replay(valid(alice)), forwardToken: true });
  const req = request('/customers/c-1/accounts');
  assert.equal(stage.decide(req), null);
  assert.ok(req.headers.includes('Bearer t'));
});

test('phantom token: an opaque token becomes its JWT for the app', () => {
  const opaque = token({ sub: 'alice', customer_id: 'c-1' }, { kind: 'opaque', jwt: 'eyJ.phantom.sig' });
  const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: new Replay(valid(opaque)) });
  const req = request('/customers/c-1/accounts');
  assert.equal(stage.decide(req), null);
  assert.ok(!req.headers.includes('Bearer t'));
  assert.equal(req.headers[req.headers.indexOf('authorization') + 1], 'Bearer eyJ.phantom.sig');
});

test('without an authenticator, tokens are neither read nor stripped', () => {
  const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders() });
  const req = request('/health');
  assert.equal(stage.decide(req), null);
  assert.ok(req.headers.includes('Bearer t'));
  assert.equal(req.subject, '');
});

test('a token check that needs I/O resolves to the same verdicts', async () => {
  const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: new Replay(Promise.resolve(valid(alice))) });
  const ok = request('/customers/c-1/accounts');
  assert.equal(await stage.decide(ok), null);
  const failing = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: new Replay(Promise.reject(new Error('bug'))) });
  assert.equal((await failing.decide(request('/health')))?.reason, 'token_unavailable', 'an unexpected failure fails closed');
});

test('an authenticator that throws fails closed', () => {
  const thrower: RequestAuthenticator = {
    authenticate() {
      throw new Error('bug');
    },
    withoutCredentials: (h) => [...h],
  };
  const stage = new InboundEnforcement({ policy: () => policy, headers: new IdentityHeaders(), authenticator: thrower });
  assert.equal((stage.decide(request('/health')) as LocalAnswer).reason, 'token_unavailable');
});

test('observer: refusals, dry runs and token results are reported', () => {
  const seen: string[] = [];
  const stage = new InboundEnforcement({
    policy: () => policy,
    headers: new IdentityHeaders(),
    authenticator: new Replay({ kind: 'none' }),
    observer: { tokenChecked: (p, r) => seen.push(`token:${p}:${r}`), dryRun: (rule, o) => seen.push(`dry:${rule}:${o}`), refused: (r) => seen.push(`refused:${r}`) },
  });
  stage.decide(request('/admin'));
  assert.deepEqual(seen, ['dry:try-admin:would_allow', 'refused:no_matching_rule']);
});

test('TCP connections: the same policy, no request-level conditions', () => {
  const stage = new InboundEnforcement({ policy: () => parsePolicy({ version: 2, rules: [{ name: 'tcp', from: [{ id: WEB, ipBlocks: ['10.0.0.0/8'] }] }] }, 'tcp'), headers: new IdentityHeaders() });
  assert.equal(stage.decideConnection(SpiffeId.parse(WEB), '10.0.0.7').allow, true);
  assert.equal(stage.decideConnection(SpiffeId.parse(WEB), '192.168.0.7').allow, false);
  assert.equal(stage.decideConnection(SpiffeId.parse(EDGE), '10.0.0.7').allow, false);
});

test('remote client addresses: read from X-Forwarded-For only when the policy trusts forwarded hops', () => {
  const rules = [{ name: 'eu-clients', from: [{ remoteIpBlocks: ['198.51.100.0/24'] }], to: [{ paths: ['/health'] }] }];
  const trusting = parsePolicy({ version: 2, remoteAddress: { trustedCallers: [EDGE], trustedHops: 1 }, rules }, 'trusting');
  const untrusting = parsePolicy({ version: 2, remoteAddress: { trustedCallers: [EDGE], trustedHops: 0 }, rules }, 'no-hops');
  const headers = ['host', 'a', 'x-forwarded-for', '203.0.113.9, 198.51.100.7'];
  const decide = (p: typeof trusting, peer: string) =>
    new InboundEnforcement({ policy: () => p, headers: new IdentityHeaders() }).decide(request('/health', { peer, headers: [...headers] }));
  assert.equal(decide(trusting, EDGE), null, 'the trusted edge vouches for the last hop');
  assert.equal((decide(trusting, WEB) as LocalAnswer).status, 403, 'a caller that is not a trusted edge is not believed');
  assert.equal((decide(untrusting, EDGE) as LocalAnswer).status, 403, 'with trustedHops 0 the forwarded chain is not read: the peer address decides');
});
