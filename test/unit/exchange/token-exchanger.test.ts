import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { JwtSvidTokens, TokenExchanger, TokenExchangeError, type ExchangeRequest, type IssuedToken, type TokenOutcome } from '../../../sidecar/exchange/index.ts';

const options = { endpoint: 'https://as.example/token', clientAuth: { method: 'tls_client_auth' as const, clientId: 'sidecar' }, expirySkewMs: 10_000 };

/** A token endpoint stand-in that records requests and answers from a queue (the real server runs in test/integration/app/token-exchange.test.ts). */
class Endpoint {
  readonly requests: ExchangeRequest[] = [];
  result: (r: ExchangeRequest) => IssuedToken | Error = (r) => ({ token: `new-for-${r.audience}-${r.scope}`, expiresAtMs: 60_000 });
  #waiting: (() => void)[] = [];
  hold = false;
  async exchange(r: ExchangeRequest): Promise<IssuedToken> {
    this.requests.push(r);
    if (this.hold) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const v = this.result(r);
    if (v instanceof Error) throw v;
    return v;
  }
  release(): void {
    for (const w of this.#waiting.splice(0)) w();
  }
}

function setup(extra: Partial<typeof options> & { maxInFlight?: number; maxCacheEntries?: number } = {}) {
  const clock = new ManualClock(0);
  const endpoint = new Endpoint();
  const hits: string[] = [];
  const results: string[] = [];
  const ex = new TokenExchanger({ ...options, ...extra }, { clock, client: endpoint, observer: { exchanged: (_r, res) => void results.push(res), cacheHit: (r) => void hits.push(r) } });
  return { clock, endpoint, ex, hits, results, target: ex.target('backend', 'https://api', 'read') };
}

test('a cached token is returned synchronously until exp − skew, then exchanged again', async () => {
  const { clock, endpoint, ex, hits, target } = setup();
  const first = await ex.get(target, 'user-token');
  assert.deepEqual(first, { ok: true, token: 'new-for-https://api-read', expiresAtMs: 50_000 });
  assert.deepEqual(endpoint.requests[0], { subjectToken: 'user-token', audience: 'https://api', scope: 'read', actorToken: '', clientAssertion: '' });
  const hit = ex.get(target, 'user-token');
  assert.ok(!(hit instanceof Promise), 'a hit is synchronous');
  assert.deepEqual(hits, ['backend']);
  clock.advance(50_000);
  assert.ok(ex.get(target, 'user-token') instanceof Promise, 'expired at exp − skew');
});

test('the key is (subject token, audience, scope)', async () => {
  const { endpoint, ex, target } = setup();
  await ex.get(target, 'a');
  await ex.get(target, 'b');
  await ex.get(ex.target('other', 'https://api', 'write'), 'a');
  await ex.get(ex.target('third', 'https://elsewhere', 'read'), 'a');
  assert.equal(endpoint.requests.length, 4);
});

test('one exchange in flight per key (single flight)', async () => {
  const { endpoint, ex, target } = setup();
  endpoint.hold = true;
  const all = Array.from({ length: 50 }, () => ex.get(target, 'same'));
  await Promise.resolve();
  await Promise.resolve();
  endpoint.release();
  const outcomes = (await Promise.all(all)) as TokenOutcome[];
  assert.equal(endpoint.requests.length, 1);
  assert.ok(outcomes.every((o) => o.ok));
});

test('beyond maxInFlight distinct exchanges: busy, not queued', async () => {
  const { endpoint, ex, target, results } = setup({ maxInFlight: 2 });
  endpoint.hold = true;
  const a = ex.get(target, 'a');
  const b = ex.get(target, 'b');
  assert.deepEqual(ex.get(target, 'c'), { ok: false, failure: 'busy' });
  assert.ok(results.includes('busy'));
  await Promise.resolve();
  endpoint.release();
  await Promise.all([a, b]);
});

const failures: [string, Error, string][] = [
  ['invalid_grant', new TokenExchangeError('exchange.subject_refused', 'x'), 'subject_refused'],
  ['another refusal', new TokenExchangeError('exchange.refused', 'x'), 'refused'],
  ['unreachable', new TokenExchangeError('exchange.unavailable', 'x'), 'unavailable'],
  ['an unexpected error', new Error('boom'), 'unavailable'],
];
for (const [name, err, failure] of failures) {
  test(`failure, never cached: ${name}`, async () => {
    const { endpoint, ex, target } = setup();
    endpoint.result = () => err;
    assert.deepEqual(await ex.get(target, 't'), { ok: false, failure });
    await ex.get(target, 't');
    assert.equal(endpoint.requests.length, 2, 'a failure is asked again');
  });
}

test('a token without a known expiry serves one request and is not cached', async () => {
  const { endpoint, ex, target } = setup();
  endpoint.result = () => ({ token: 'x', expiresAtMs: undefined });
  assert.equal(((await ex.get(target, 't')) as { ok: boolean }).ok, true);
  await ex.get(target, 't');
  assert.equal(endpoint.requests.length, 2);
});

test('actor token: our JWT-SVID for the configured audience is sent; no SVID is jwt_svid_unavailable', async () => {
  const clock = new ManualClock(0);
  const endpoint = new Endpoint();
  let fail = false;
  const audiences: string[] = [];
  const jwtSvids = new JwtSvidTokens({
    clock,
    fetcher: {
      async fetchJwtSvid(aud) {
        audiences.push(aud);
        if (fail) throw new Error('no agent');
        return { token: 'svid-jwt', expiresAt: new Date(3_600_000) };
      },
    },
  });
  const ex = new TokenExchanger({ ...options, actorToken: true, actorTokenAudience: 'https://as.example' }, { clock, client: endpoint, jwtSvids });
  await ex.get(ex.target('r', 'aud', ''), 't1');
  assert.equal(endpoint.requests[0]!.actorToken, 'svid-jwt');
  assert.deepEqual(audiences, ['https://as.example']);
  await ex.get(ex.target('r', 'aud', ''), 't2');
  assert.equal(audiences.length, 1, 'the JWT-SVID is cached');
  assert.throws(() => new TokenExchanger({ ...options, actorToken: true }, { clock, client: endpoint }), TokenExchangeError);
  const noSvid = new JwtSvidTokens({ clock, fetcher: { fetchJwtSvid: async () => Promise.reject(new Error('down')) } });
  fail = true;
  const ex2 = new TokenExchanger({ ...options, actorToken: true }, { clock, client: endpoint, jwtSvids: noSvid });
  assert.deepEqual(await ex2.get(ex2.target('r', 'aud', ''), 't3'), { ok: false, failure: 'jwt_svid_unavailable' });
});
