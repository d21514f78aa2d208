import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createAdminServer } from '../../../sidecar/admin/index.ts';
import { checkTokenKeys, probeTokenKeys } from '../../../sidecar/check/index.ts';
import type { AuthConfig } from '../../../sidecar/config/index.ts';
import { systemClock } from '../../../sidecar/core/index.ts';
import { JwtBundleSet } from '../../../sidecar/bundle/index.ts';

const auth = { jwt: [], introspection: null, forwardToken: false, readyTimeoutMs: 1000 } as unknown as AuthConfig;

test('token-keys: ok when no auth section is configured', () => assert.equal(checkTokenKeys(null, undefined).status, 'ok'));
test('token-keys: ok with each provider\'s key count', () => {
  const r = checkTokenKeys(auth, [{ provider: 'corp', ready: true, keyCount: 2, fetchedAtMs: 1, expiresAtMs: 2, lastError: undefined }]);
  assert.equal(r.status, 'ok');
  assert.match(r.detail, /corp: 2 keys/);
});
test('token-keys: fails naming a provider without keys and its last error', () => {
  const r = checkTokenKeys(auth, [{ provider: 'corp', ready: false, keyCount: 0, fetchedAtMs: undefined, expiresAtMs: undefined, lastError: 'connect ECONNREFUSED' }]);
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /corp: no keys \(connect ECONNREFUSED\)/);
  assert.match(r.fix, /JWKS/);
});
test('token-keys: fails when the authenticator cannot be built', () => assert.equal(checkTokenKeys(auth, { error: 'auth.jwt[0].caFile /x cannot be read' }).status, 'fail'));
test('token-keys: probes a real authenticator built from the auth section (an unreachable JWKS)', async () => {
  const c = {
    ...auth,
    jwt: [{ name: 'corp', issuer: 'http://127.0.0.1:1', audiences: ['api'], jwksUri: 'http://127.0.0.1:1/jwks' }],
  } as unknown as AuthConfig;
  const probe = await probeTokenKeys(c, {
    identity: { getX509Svid: () => assert.fail('no SVID needed') },
    fetchJwtBundles: async () => JwtBundleSet.of([]),
    clock: systemClock,
    timeoutMs: 500,
  });
  const r = checkTokenKeys(c, probe);
  assert.equal(r.status, 'fail', r.detail);
  assert.match(r.detail, /corp: no keys/);
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

const base = { listen: { host: '127.0.0.1', port: 0 }, metrics: { contentType: 'text/plain', render: async () => '' }, readiness: () => ({ ready: true, reasons: [] }) };
test('admin /debug/listeners: serves the listeners callback as JSON when given', async () => {
  const admin = createAdminServer({ ...base, debug: { svid: () => ({}), config: () => ({}), listeners: () => [{ name: 'inbound', address: '0.0.0.0:15006', bound: false }] } });
  const { port } = await admin.start();
  after(() => admin.stop());
  const r = await get(port, '/debug/listeners');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), [{ name: 'inbound', address: '0.0.0.0:15006', bound: false }]);
});
test('admin /debug/listeners: is 404 without the callback', async () => {
  const admin = createAdminServer({ ...base, debug: { svid: () => ({}), config: () => ({}) } });
  const { port } = await admin.start();
  after(() => admin.stop());
  assert.equal((await get(port, '/debug/listeners')).status, 404);
});
