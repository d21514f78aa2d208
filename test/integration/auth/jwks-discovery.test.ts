/**
 * OpenID Connect discovery against a real local issuer: the document's
 * `issuer` must equal the configured one, `jwks_uri` must be usable, and a
 * failed JWKS load makes the next load read the document again.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { TokenAuthenticator } from '../../../sidecar/auth/index.ts';
import { jwks, publicJwk, signJwt } from '../../support/jwt-sign.ts';
import { JwksServer, waitFor } from './jwks-server.ts';

const T0 = 1_900_000_000_000;
const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const WELL_KNOWN = '/tenant/.well-known/openid-configuration';

let server: JwksServer;
let auth: TokenAuthenticator | undefined;
let clock: ManualClock;

beforeEach(async () => {
  server = await JwksServer.start();
  server.route('/keys', { body: jwks(publicJwk(key.publicKey, { kid: 'k1' })) });
  clock = new ManualClock(T0);
});

afterEach(async () => {
  await auth?.close();
  auth = undefined;
  await server.close();
});

/** The issuer is `http://127.0.0.1:PORT/tenant` (trailing slash as given). */
async function start(issuer: string): Promise<TokenAuthenticator> {
  auth = new TokenAuthenticator({ providers: [{ name: 'oidc', issuer, audiences: ['api'], discovery: true }] }, { clock, random: () => 0.5 });
  auth.start();
  return auth;
}

test('discovery: finds jwks_uri in the issuer\'s document and verifies with its keys', async () => {
  const issuer = server.url('/tenant');
  server.route(WELL_KNOWN, { body: JSON.stringify({ issuer, jwks_uri: server.url('/keys') }) });
  const a = await start(issuer);
  assert.equal((await a.ready(5_000)).ready, true);
  const t = signJwt('RS256', key.privateKey, { iss: issuer, aud: 'api', exp: T0 / 1000 + 60 }, { kid: 'k1' });
  assert.equal((await a.authenticate(['authorization', `Bearer ${t}`], undefined)).kind, 'valid');
  assert.deepEqual([server.requests(WELL_KNOWN), server.requests('/keys')], [1, 1]);
});

test('discovery: removes a trailing slash of the issuer before appending the well-known path', async () => {
  const issuer = `${server.url('/tenant')}/`;
  server.route(WELL_KNOWN, { body: JSON.stringify({ issuer, jwks_uri: server.url('/keys') }) });
  assert.equal((await (await start(issuer)).ready(5_000)).ready, true);
});

const bad: { name: string; doc: (issuer: string) => unknown; message: RegExp }[] = [
  { name: 'another issuer (mix-up)', doc: (i) => ({ issuer: `${i}/other`, jwks_uri: server.url('/keys') }), message: /names issuer .* not the configured one/ },
  { name: 'issuer differing by a trailing slash', doc: (i) => ({ issuer: `${i}/`, jwks_uri: server.url('/keys') }), message: /not the configured one/ },
  { name: 'no jwks_uri', doc: (i) => ({ issuer: i }), message: /no "jwks_uri"/ },
  { name: 'jwks_uri over http off loopback', doc: (i) => ({ issuer: i, jwks_uri: 'http://keys.example/jwks' }), message: /must use https/ },
  { name: 'not an object', doc: () => ['x'], message: /not a JSON object/ },
];
for (const row of bad) {
  test(`discovery: refuses a document with ${row.name}`, async () => {
    const issuer = server.url('/tenant');
    server.route(WELL_KNOWN, { body: JSON.stringify(row.doc(issuer)) });
    await start(issuer);
    const got = await waitReadyOrError();
    assert.equal(got.ready, false);
    assert.match(got.lastError ?? '', row.message);
    assert.equal(server.requests('/keys'), 0, 'keys are never fetched from an unverified document');
  });
}

test('discovery: reads the document again after the JWKS load fails', async () => {
  const issuer = server.url('/tenant');
  server.route(WELL_KNOWN, { body: JSON.stringify({ issuer, jwks_uri: server.url('/keys') }), headers: { 'cache-control': 'max-age=86400' } });
  const a = await start(issuer);
  assert.equal((await a.ready(5_000)).ready, true);
  server.route('/keys', { status: 404, body: '' });
  server.route('/moved', { body: jwks(publicJwk(key.publicKey, { kid: 'k2' })) });
  server.route(WELL_KNOWN, { body: JSON.stringify({ issuer, jwks_uri: server.url('/moved') }) });
  clock.advance(30_000);
  const t2 = signJwt('RS256', key.privateKey, { iss: issuer, aud: 'api', exp: T0 / 1000 + 600 }, { kid: 'k2' });
  assert.equal((await a.authenticate(['authorization', `Bearer ${t2}`], undefined)).kind, 'unavailable');
  // The retry after the failure (1 s backoff) reads the document again and follows the move.
  clock.advance(1_000);
  await waitFor(() => a.status()[0]!.lastError === undefined, 'the retry');
  assert.equal((await a.authenticate(['authorization', `Bearer ${t2}`], undefined)).kind, 'valid');
  assert.equal(server.requests(WELL_KNOWN), 2);
});

/** The provider's state once its first load has ended (it fails in these rows). */
async function waitReadyOrError(): Promise<{ ready: boolean; lastError: string | undefined }> {
  await waitFor(() => auth!.status()[0]!.ready || auth!.status()[0]!.lastError !== undefined, 'the first load');
  return auth!.status()[0]!;
}
