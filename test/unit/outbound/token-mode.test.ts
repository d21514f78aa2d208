import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { JwtSvidTokens, TokenExchanger, TokenExchangeError, type ExchangeRequest } from '../../../sidecar/exchange/index.ts';
import { ContextHandles } from '../../../sidecar/auth/index.ts';
import { OUTBOUND_ANSWERS, OutboundCredentials, OutboundTokenStep, type OutboundTokenOptions } from '../../../sidecar/outbound/index.ts';

const clock = new ManualClock(0);
const seen: ExchangeRequest[] = [];
let refuse: TokenExchangeError | undefined;
const exchanger = new TokenExchanger(
  { endpoint: 'https://as.example/token', clientAuth: { method: 'tls_client_auth', clientId: 's' } },
  {
    clock,
    client: {
      async exchange(r) {
        seen.push(r);
        if (refuse) throw refuse;
        return { token: `exchanged-${r.audience}`, expiresAtMs: 3_600_000 };
      },
    },
  },
);
const jwtSvids = new JwtSvidTokens({ clock, fetcher: { fetchJwtSvid: async (aud) => ({ token: `svid-${aud}`, expiresAt: new Date(3_600_000) }) } });
const services = { credentials: new OutboundCredentials(['x-api-token'], ['session']), exchanger, jwtSvids };
const step = (o: OutboundTokenOptions | undefined) => new OutboundTokenStep('backend', o, services);
const run = async (o: OutboundTokenOptions | undefined, headers: string[]) => {
  const req = { headers: [...headers] };
  const answer = await step(o).apply(req);
  return { answer, headers: req.headers };
};
const app = ['host', 'backend', 'Authorization', 'Bearer user', 'X-Api-Token', 'k', 'cookie', 'session=s1; theme=dark', 'accept', '*/*'];

const rows: [string, OutboundTokenOptions | undefined, string[]][] = [
  ['no mode is none: every credential removed, other cookies kept', undefined, ['host', 'backend', 'cookie', 'theme=dark', 'accept', '*/*']],
  ['none', { mode: 'none' }, ['host', 'backend', 'cookie', 'theme=dark', 'accept', '*/*']],
  ['forward keeps everything', { mode: 'forward' }, app],
  ['jwt-svid replaces the credentials with our JWT-SVID', { mode: 'jwt-svid', audience: 'spiffe://example.org/b' }, ['host', 'backend', 'cookie', 'theme=dark', 'accept', '*/*', 'authorization', 'Bearer svid-spiffe://example.org/b']],
  ['exchange replaces the bearer token with the exchanged one', { mode: 'exchange', audience: 'https://api' }, ['host', 'backend', 'cookie', 'theme=dark', 'accept', '*/*', 'authorization', 'Bearer exchanged-https://api']],
];
for (const [name, o, want] of rows) {
  test(`token mode: ${name}`, async () => {
    const r = await run(o, app);
    assert.equal(r.answer, null);
    assert.deepEqual(r.headers, want);
  });
}

test('exchange sends the bearer token of the request as subject_token, with the scope', async () => {
  seen.length = 0;
  await run({ mode: 'exchange', audience: 'https://api', scope: 'read' }, ['authorization', 'bearer  tok-1 ']);
  assert.deepEqual(seen[0], { subjectToken: 'tok-1', audience: 'https://api', scope: 'read', actorToken: '', clientAssertion: '' });
});

test('exchange: a cached token is applied synchronously', async () => {
  const s = step({ mode: 'exchange', audience: 'https://sync' });
  await s.apply({ headers: ['authorization', 'Bearer warm'] });
  const req = { headers: ['authorization', 'Bearer warm'] };
  assert.equal(s.apply(req), null);
  assert.deepEqual(req.headers, ['authorization', 'Bearer exchanged-https://sync']);
});

test('exchange: no bearer token goes without credentials; another scheme is removed', async () => {
  assert.deepEqual((await run({ mode: 'exchange', audience: 'https://api' }, ['accept', '*/*'])).headers, ['accept', '*/*']);
  assert.deepEqual((await run({ mode: 'exchange', audience: 'https://api' }, ['authorization', 'Basic dTpw'])).headers, []);
});

test('exchange: two Authorization headers are 400', async () => {
  const r = await run({ mode: 'exchange', audience: 'https://api' }, ['authorization', 'Bearer a', 'Authorization', 'Bearer b']);
  assert.equal(r.answer, OUTBOUND_ANSWERS.multiple_tokens);
});

const failures: [string, TokenExchangeError, number][] = [
  ['the subject token refused is 401', new TokenExchangeError('exchange.subject_refused', 'x'), 401],
  ['another refusal is 503', new TokenExchangeError('exchange.refused', 'x'), 503],
  ['the server unreachable is 503', new TokenExchangeError('exchange.unavailable', 'x'), 503],
];
for (const [name, err, status] of failures) {
  test(`exchange failure: ${name}, and the app token is not sent`, async () => {
    refuse = err;
    try {
      const r = await run({ mode: 'exchange', audience: `https://${status}-${err.code}` }, ['authorization', 'Bearer user']);
      assert.equal(r.answer?.status, status);
    } finally {
      refuse = undefined;
    }
  });
}

test('a mode that needs an audience, an exchanger or JWT-SVIDs refuses to build without them', () => {
  assert.throws(() => step({ mode: 'exchange' }), /needs an audience/);
  assert.throws(() => step({ mode: 'none', audience: 'x' }), /applies only/);
  assert.throws(() => step({ mode: 'jwt-svid', audience: 'x', scope: 'read' }), /scope applies only/);
  assert.throws(() => new OutboundTokenStep('b', { mode: 'exchange', audience: 'x' }, { credentials: services.credentials }), /needs outbound.tokenExchange/);
  assert.throws(() => new OutboundTokenStep('b', { mode: 'jwt-svid', audience: 'x' }, { credentials: services.credentials }), /JWT-SVIDs/);
});

test('OutboundCredentials.strip returns the same array when there is nothing to remove', () => {
  const h = ['accept', '*/*'];
  assert.equal(new OutboundCredentials().strip(h), h);
});

// ---- txn mode and context handles ----
const handleStore = new ContextHandles({ clock });
const withHandles = { ...services, contextHandles: handleStore };
const runWith = async (o: OutboundTokenOptions, headers: string[]) => {
  const req = { headers: [...headers] };
  const answer = await new OutboundTokenStep('backend', o, withHandles).apply(req);
  return { answer, headers: req.headers };
};

test('txn rows: forward the propagated transaction token, or obtain one at the edge', async () => {
  const handle = handleStore.issue('txn-from-handle', 3_600_000)!;
  const rows: [string, OutboundTokenOptions, string[], string[]][] = [
    ['forwards the Txn-Token the app sent, other credentials removed', { mode: 'txn' }, ['Txn-Token', 't1', 'authorization', 'Bearer u'], ['txn-token', 't1']],
    ['resolves the context handle to the transaction token', { mode: 'txn' }, ['x-auth-context', handle], ['x-auth-context', handle, 'txn-token', 'txn-from-handle']],
    ['no transaction token: goes without one', { mode: 'txn' }, ['authorization', 'Bearer u'], []],
    ['the edge obtains one from the bearer token, dropping an app-sent Txn-Token', { mode: 'txn', obtain: true, audience: 'spiffe://example.org' }, ['authorization', 'Bearer u', 'txn-token', 'forged'], ['txn-token', 'exchanged-spiffe://example.org']],
  ];
  for (const [name, o, headers, want] of rows) {
    const r = await runWith(o, headers);
    assert.equal(r.answer, null, name);
    assert.deepEqual(r.headers, want, name);
  }
  assert.equal(seen.at(-1)?.requestedTokenType, 'urn:ietf:params:oauth:token-type:txn_token');
  const two = await runWith({ mode: 'txn' }, ['txn-token', 'a', 'txn-token', 'b']);
  assert.equal(two.answer, OUTBOUND_ANSWERS.multiple_tokens);
});

test('exchange resolves a context handle when the app sent no bearer token', async () => {
  const handle = handleStore.issue('user-from-handle', 3_600_000)!;
  const before = seen.length;
  const r = await runWith({ mode: 'exchange', audience: 'https://h' }, ['x-auth-context', handle]);
  assert.equal(r.answer, null);
  assert.equal(seen[before]?.subjectToken, 'user-from-handle');
  const forged = await runWith({ mode: 'exchange', audience: 'https://h' }, ['x-auth-context', 'Z'.repeat(32)]);
  assert.deepEqual(forged.headers, ['x-auth-context', 'Z'.repeat(32)], 'nothing resolved: no credentials added');
});

test('txn option checks', () => {
  const rows: [string, OutboundTokenOptions, RegExp][] = [
    ['obtain outside txn', { mode: 'exchange', audience: 'a', obtain: true }, /obtain applies only to txn/],
    ['obtain without audience', { mode: 'txn', obtain: true }, /needs an audience/],
    ['audience without obtain', { mode: 'txn', audience: 'a' }, /audience applies only/],
  ];
  for (const [name, o, re] of rows) assert.throws(() => new OutboundTokenStep('backend', o, withHandles), re, name);
});
