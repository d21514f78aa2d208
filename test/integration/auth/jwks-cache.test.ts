/**
 * Key-set cache behaviour against a real local issuer (node:http on
 * 127.0.0.1) with a manual clock: Cache-Control lifetimes and clamping,
 * unknown-kid refetch and its rate limit, single flight, stale-if-error,
 * bad bodies, timeouts and the 503 path when the issuer is down.
 */
import { after, afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { TokenAuthenticator, type AuthObserver, type JwtProviderOptions, type TokenOutcome } from '../../../sidecar/auth/index.ts';
import { jwks, publicJwk, signJwt } from '../../support/jwt-sign.ts';
import { JwksServer, waitFor } from './jwks-server.ts';

const T0 = 1_900_000_000_000;
const ISS = 'https://issuer.example';
const keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwkA = publicJwk(keyA.publicKey, { kid: 'a' });
const jwkB = publicJwk(keyB.publicKey, { kid: 'b' });

let server: JwksServer;
let clock: ManualClock;
let auth: TokenAuthenticator | undefined;
let fetches: string[];

const observer: AuthObserver = { tokenValidated() {}, keyFetch: (_p, r) => void fetches.push(r), keySetAge() {} };

function token(kid: string, key: KeyObject, jti = kid): string {
  const now = Math.floor(clock.now() / 1000);
  return signJwt('ES256', key, { iss: ISS, aud: 'api', sub: 'u', exp: now + 7 * 86_400, iat: now, jti }, { kid });
}

async function start(extra: Partial<JwtProviderOptions> = {}, ready = true): Promise<TokenAuthenticator> {
  const provider: JwtProviderOptions = { name: 'idp', issuer: ISS, audiences: ['api'], jwksUri: server.url(), ...extra };
  auth = new TokenAuthenticator({ providers: [provider] }, { clock, observer, random: () => 0.5 });
  auth.start();
  if (ready) assert.equal((await auth.ready(5_000)).ready, true);
  return auth;
}

const headers = (t: string) => ['authorization', `Bearer ${t}`];
const kindOf = (o: TokenOutcome) => (o.kind === 'invalid' || o.kind === 'unavailable' ? `${o.kind}/${o.reason}` : o.kind);
const status = () => auth!.status()[0]!;

beforeEach(async () => {
  server = await JwksServer.start();
  server.route('/jwks', { body: jwks(jwkA), headers: { 'cache-control': 'max-age=600' } });
  clock = new ManualClock(T0);
  fetches = [];
});

afterEach(async () => {
  await auth?.close();
  auth = undefined;
  await server.close();
});

after(() => {});

const rows: { header: string | undefined; lifetimeMs: number }[] = [
  { header: 'max-age=120', lifetimeMs: 120_000 },
  { header: 'max-age=5', lifetimeMs: 60_000 },
  { header: 'max-age=31536000', lifetimeMs: 86_400_000 },
  { header: 'no-store', lifetimeMs: 60_000 },
  { header: 'no-cache, max-age=3600', lifetimeMs: 60_000 },
  { header: 's-maxage=3600', lifetimeMs: 600_000 },
  { header: undefined, lifetimeMs: 600_000 },
];
for (const row of rows) {
  test(`key-set lifetime from Cache-Control: ${row.header ?? '(absent)'} → ${row.lifetimeMs} ms`, async () => {
    server.route('/jwks', { body: jwks(jwkA), ...(row.header === undefined ? {} : { headers: { 'cache-control': row.header } }) });
    await start();
    const s = status();
    assert.equal(s.expiresAtMs! - s.fetchedAtMs!, row.lifetimeMs);
  });
}

test('key-set lifetime from Cache-Control: refreshes when the lifetime ends, not before', async () => {
  server.route('/jwks', { body: jwks(jwkA), headers: { 'cache-control': 'max-age=120' } });
  await start();
  clock.advance(119_000);
  assert.equal(server.requests(), 1);
  clock.advance(1_000);
  await waitFor(() => fetches.length === 2, 'the refresh');
  assert.equal(server.requests(), 2);
  assert.equal(status().fetchedAtMs, T0 + 120_000);
});

test('unknown kid: refetches at once, then at most once per 30 s', async () => {
  await start();
  server.route('/jwks', { body: jwks(jwkA, jwkB) });
  // The scheduled first load does not count: a key rotated right after
  // start is fetched at once (Envoy waits for the cache to expire).
  assert.equal(server.requests(), 1);
  const first = auth!.authenticate(headers(token('b', keyB.privateKey)), undefined);
  assert.ok(first instanceof Promise, 'an unknown kid waits for the refetch');
  assert.equal(kindOf(await first), 'valid');
  assert.equal(server.requests(), 2);

  const c = token('c', keyC.privateKey);
  const limited = auth!.authenticate(headers(c), undefined);
  assert.ok(!(limited instanceof Promise), 'within 30 s the answer comes from the held set');
  assert.equal(kindOf(limited), 'invalid/unknown_key');
  assert.equal(server.requests(), 2);

  clock.advance(29_999);
  assert.equal(kindOf(await auth!.authenticate(headers(c), undefined)), 'invalid/unknown_key');
  assert.equal(server.requests(), 2);
  clock.advance(1);
  assert.equal(kindOf(await auth!.authenticate(headers(c), undefined)), 'invalid/unknown_key');
  assert.equal(server.requests(), 3);
});

test('unknown kid: N concurrent requests with unknown kids share one fetch (single flight)', async () => {
  await start();
  server.route('/jwks', { body: jwks(jwkA, jwkB) });
  clock.advance(30_000);
  const release = server.hold();
  const pending = Array.from({ length: 20 }, (_, i) => auth!.authenticate(headers(token('b', keyB.privateKey, `r${i}`)), undefined));
  await waitFor(() => server.requests() === 2, 'the refetch to arrive');
  release();
  const outcomes = await Promise.all(pending);
  assert.deepEqual(new Set(outcomes.map(kindOf)), new Set(['valid']));
  assert.equal(server.requests(), 2);
});

test('unknown kid: issuer unreachable: unknown kid is unavailable (503), known kid still valid', async () => {
  await start();
  server.mode = 'reset';
  clock.advance(30_000);
  const out = await auth!.authenticate(headers(token('b', keyB.privateKey)), undefined);
  assert.equal(kindOf(out), 'unavailable/keys_unavailable');
  assert.equal(kindOf(await auth!.authenticate(headers(token('a', keyA.privateKey)), undefined)), 'valid');
  // Rate-limited now, and the last load failed: still unavailable, not unknown_key.
  assert.equal(kindOf(await auth!.authenticate(headers(token('b', keyB.privateKey, 'again')), undefined)), 'unavailable/keys_unavailable');
});

test('unknown kid: a hung issuer releases waiting requests at the fetch timeout', async () => {
  await start({ fetchTimeoutMs: 2_000 });
  server.mode = 'hang';
  clock.advance(30_000);
  const pending = auth!.authenticate(headers(token('b', keyB.privateKey)), undefined);
  assert.ok(pending instanceof Promise);
  await waitFor(() => server.requests() === 2, 'the refetch to arrive');
  clock.advance(2_000);
  assert.equal(kindOf(await pending), 'unavailable/keys_unavailable');
  assert.match(status().lastError ?? '', /timed out after 2000 ms/);
});

test('failed refreshes: keep the last good set until 24 h past its expiry, then drop it', async () => {
  server.route('/jwks', { body: jwks(jwkA), headers: { 'cache-control': 'max-age=60' } });
  await start();
  server.mode = 'reset';
  clock.advance(60_000);
  await waitFor(() => fetches.includes('error'), 'the failed refresh');
  const a = token('a', keyA.privateKey);
  assert.equal(kindOf(await auth!.authenticate(headers(a), undefined)), 'valid');
  assert.equal(status().ready, true);
  clock.advance(86_400_000 - 1_000);
  assert.equal(kindOf(await auth!.authenticate(headers(token('a', keyA.privateKey, 'late')), undefined)), 'valid');
  clock.advance(1_000);
  assert.equal(kindOf(await auth!.authenticate(headers(token('a', keyA.privateKey, 'later')), undefined)), 'unavailable/keys_unavailable');
  assert.equal(status().ready, false);
});

test('failed refreshes: retry with growing backoff and recover', async () => {
  server.route('/jwks', { body: jwks(jwkA), headers: { 'cache-control': 'max-age=60' } });
  await start();
  server.mode = 'reset';
  clock.advance(60_000);
  await waitFor(() => fetches.length === 2, 'failure 1');
  clock.advance(999);
  assert.equal(server.requests(), 2, 'not retried before the first backoff');
  clock.advance(1);
  await waitFor(() => fetches.length === 3, 'failure 2');
  clock.advance(1_499);
  assert.equal(server.requests(), 3, 'the second backoff is longer');
  server.mode = 'ok';
  clock.advance(1);
  await waitFor(() => fetches.length === 4, 'recovery');
  assert.deepEqual(fetches, ['ok', 'error', 'error', 'ok']);
  assert.equal(status().lastError, undefined);
});

const badBodies: { name: string; body: string; message: RegExp }[] = [
  { name: 'not JSON', body: '<html>oops</html>', message: /not UTF-8 JSON/ },
  { name: 'not {keys:[...]}', body: '{"issuer":"x"}', message: /"keys" array/ },
  { name: 'larger than 256 KiB', body: JSON.stringify({ keys: [jwkA], pad: 'x'.repeat(300 * 1024) }), message: /larger than 262144 bytes/ },
  { name: 'HTTP 500', body: '', message: /HTTP status 500/ },
];
for (const row of badBodies) {
  test(`failed refreshes: a bad body (${row.name}) keeps the last good set`, async () => {
    await start();
    server.route('/jwks', { body: row.body, ...(row.name === 'HTTP 500' ? { status: 500 } : {}) });
    clock.advance(30_000);
    assert.equal(kindOf(await auth!.authenticate(headers(token('b', keyB.privateKey)), undefined)), 'unavailable/keys_unavailable');
    assert.match(status().lastError ?? '', row.message);
    assert.equal(kindOf(await auth!.authenticate(headers(token('a', keyA.privateKey)), undefined)), 'valid');
  });
}

test('readiness and shutdown: ready() reports a provider whose issuer is down, and waits for it to come up', async () => {
  server.mode = 'reset';
  await start({}, false);
  const r = auth!.ready(10_000);
  await waitFor(() => fetches.length === 1, 'the first failure');
  server.mode = 'ok';
  clock.advance(1_000);
  assert.equal((await r).ready, true);
});

test('readiness and shutdown: ready() gives up after its timeout', async () => {
  server.mode = 'reset';
  await start({}, false);
  const r = auth!.ready(3_000);
  await waitFor(() => fetches.length === 1, 'the first failure');
  server.mode = 'hang';
  clock.advance(3_000);
  const got = await r;
  assert.equal(got.ready, false);
  assert.match(got.providers[0]!.lastError ?? '', /failed/);
});

test('readiness and shutdown: close() cancels every timer', async () => {
  await start();
  assert.ok(clock.pendingTimers > 0);
  await auth!.close();
  assert.equal(clock.pendingTimers, 0);
  auth = undefined;
});
