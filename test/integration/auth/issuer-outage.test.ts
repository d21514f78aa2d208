/**
 * An issuer outage as the sidecar's key fetcher sees it, against the real
 * authorization server (oidc-provider): keys already held keep verifying
 * tokens; a token signed with a key the sidecar has not seen cannot be
 * judged and is `unavailable` (the enforcement stage answers 503, never
 * 401 and never a pass, envoy#41669); when the issuer comes back, the same
 * token is verified without a restart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TokenAuthenticator, type TokenOutcome } from '../../../sidecar/auth/index.ts';
import { JWT_RESOURCE, startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';

let as: OidcProvider;
let auth: TokenAuthenticator;

before(async () => {
  as = await startOidcProvider();
  auth = new TokenAuthenticator({
    providers: [
      {
        name: 'corp',
        issuer: as.issuer,
        discovery: true,
        audiences: [JWT_RESOURCE],
        requireTyp: 'at+jwt',
        fetchTimeoutMs: 1_000,
        // Short, so the test can wait out the limit instead of moving a clock.
        keySetCache: { unknownKeyRefetchIntervalMs: 1_000 },
      },
    ],
  });
  auth.start();
  assert.equal((await auth.ready(10_000)).ready, true, 'first key set fetched');
});
after(async () => {
  await auth?.close();
  await as?.stop();
});

const bearer = (t: string): string[] => ['authorization', `Bearer ${t}`];
const issue = (): Promise<string> => as.issueToken({ format: 'jwt', clientId: 'app', subject: 'alice', audience: JWT_RESOURCE });
const kind = (o: TokenOutcome): string => (o.kind === 'invalid' || o.kind === 'unavailable' ? `${o.kind}/${o.reason}` : o.kind);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('issuer down: held keys keep working, an unseen key is unavailable (503), recovery needs no restart', async () => {
  const before = await issue();
  assert.equal(kind(await auth.authenticate(bearer(before), undefined)), 'valid');

  await as.rotateKeys();
  const rotated = await issue();
  await as.setKeysDown(true);

  assert.equal(kind(await auth.authenticate(bearer(before), undefined)), 'valid', 'the key set held before the outage still verifies');
  assert.equal(kind(await auth.authenticate(bearer(rotated), undefined)), 'unavailable/keys_unavailable', 'a key that cannot be fetched is not a bad token');
  const status = auth.status()[0]!;
  assert.equal(status.ready, true, 'the stale set stays in use');
  assert.ok(status.lastError !== undefined, 'the failed fetch is reported');

  await as.setKeysDown(false);
  await sleep(1_100);
  assert.equal(kind(await auth.authenticate(bearer(rotated), undefined)), 'valid', 'back online: the new key is fetched on demand');
  assert.equal(auth.status()[0]!.lastError, undefined);
});
