/**
 * `spiffe-sidecar demo --once` end to end: the dev agent, six real
 * sidecar processes (three of them the bank chain), the authorization
 * server (oidc-provider, a dev dependency, so always here in a checkout)
 * and the scripted checks; exit 0 only if every check passed. A short SVID TTL keeps the wait for the
 * rotation short. Also: the end-user part says in one line why it is
 * skipped where the authorization server cannot run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DemoReport } from '../../../sidecar/demo/demo-report.ts';
import { EndUserDemo } from '../../../sidecar/demo/end-user-demo.ts';
import { runCli } from '../../support/sidecar-harness.ts';

test('demo --once: allowed call, 403 for the intruder, spoof replaced, end users, the bank chain, rotation; exit 0 and nothing left behind', async () => {
  const r = await runCli(['demo', '--once', '--svid-ttl', '6s'], { timeoutMs: 50_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(out, /ok +allowed: 200 from the backend/);
  assert.match(out, /ok +backend saw x-client-spiffe-id: spiffe:\/\/example\.org\/frontend$/m);
  assert.match(out, /ok +backend saw x-forwarded-client-cert: By=spiffe:\/\/example\.org\/backend;Hash=[0-9a-f]+\.\.\.;URI=spiffe:\/\/example\.org\/frontend/);
  assert.match(out, /ok +denied: 403 forbidden: caller is not allowed by the inbound policy/);
  assert.match(out, /ok +backend saw x-client-spiffe-id: spiffe:\/\/example\.org\/frontend: the spoofed value was replaced/);
  // The user side: an authorization server, opaque and JWT tokens, claims to the app, no token.
  assert.match(out, /authorization server \(oidc-provider\): issuer http:\/\/127\.0\.0\.1:\d+;/);
  assert.match(out, /ok +alice's opaque token \(introspected\) reads \/accounts\/1001: 200$/m);
  assert.match(out, /ok +backend app saw x-auth-subject: alice, x-auth-client-id: web-app, x-customer-id: 1001 \(claimHeaders\), x-auth-scopes: accounts:read$/m);
  assert.match(out, /ok +backend app saw x-auth-issuer: http:\/\/127\.0\.0\.1:\d+ and x-auth-claims \(base64url JSON\): .*\bcustomer_id\b/);
  assert.match(out, /ok +backend app received no Authorization header/);
  assert.match(out, /ok +alice's JWT \(RFC 9068, keys by OIDC discovery\) reads \/accounts\/1001: 200$/m);
  assert.match(out, /ok +alice on bob's account \/accounts\/1002: 403 forbidden/);
  assert.match(out, /ok +a forged token .*: 401 invalid token: the token signature does not verify, WWW-Authenticate: Bearer error="invalid_token", error_description="the token signature does not verify"$/m);
  assert.match(out, /ok +an expired token .*: 401 invalid token: the token has expired, WWW-Authenticate: Bearer error="invalid_token", error_description="the token has expired"$/m);
  assert.match(out, /ok +no token on \/accounts\/1001: 401 .*WWW-Authenticate: Bearer$/m);
  assert.match(out, /ok +the backend app never saw the refused requests/);
  // The bank chain: each hop's app got a token made for it by exchange, shown decoded.
  assert.match(out, /ok +alice reads \/accounts\/alice through the chain: 200 \(the edge, accounts and payments apps each got the call\)$/m);
  assert.match(out, /edge app got +Authorization: Bearer JWT \(typ at\+jwt, RS256, signature elided\), caller spiffe:\/\/example\.org\/frontend\n +sub alice, aud https:\/\/edge\.bank\.example, scope "accounts:read payments:read payments:write", act \(none\), client_id bank-web$/m);
  assert.match(out, /accounts app got +Authorization: Bearer JWT .*, caller spiffe:\/\/example\.org\/edge\n +sub alice, aud https:\/\/accounts\.bank\.example, scope "accounts:read payments:read", act spiffe:\/\/example\.org\/edge, client_id bank-web$/m);
  assert.match(out, /payments app got +Authorization: Bearer JWT .*, caller spiffe:\/\/example\.org\/accounts\n +sub alice, aud https:\/\/payments\.bank\.example, scope "payments:read", act spiffe:\/\/example\.org\/accounts <- spiffe:\/\/example\.org\/edge, client_id bank-web$/m);
  assert.match(out, /ok +payments' token: aud https:\/\/payments\.bank\.example, scope "payments:read" .*, act names accounts, then edge$/m);
  assert.match(out, /ok +accounts' token: aud https:\/\/accounts\.bank\.example, scope "accounts:read payments:read", act names edge$/m);
  assert.match(out, /ok +edge's token: the phantom JWT for the opaque one/);
  assert.match(out, /ok +no hop saw the opaque token/);
  assert.match(out, /ok +each hop's token reached that hop alone/);
  assert.match(out, /ok +alice on bob's account \/accounts\/bob: 403 at accounts \(forbidden: .*\); the edge app passed it on, the accounts app never saw it$/m);
  assert.doesNotMatch(out, /eyJ[\w-]*\.eyJ[\w-]*\./, 'a raw JWT was printed');
  assert.match(out, /ok +backend SVID serial [0-9A-F]+\.\.\. -> [0-9A-F]+\.\.\./);
  assert.match(out, /all \d+ checks passed\./);
  assert.doesNotMatch(out, /FAILED/);
  const dir = /Working directory (\S+)\./.exec(out)?.[1];
  assert.ok(dir, 'the report names its working directory');
  assert.equal(existsSync(dir), false, 'the working directory is removed');
});

test('the end-user part is skipped, in one line, where the authorization server cannot run', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ssd-demo-root-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const rows: { name: string; setUp: () => void; says: RegExp }[] = [
    { name: 'an installed package: no example server', setUp: () => {}, says: /^ {2}end users: skipped, examples\/authorization-server\/ is not here/ },
    {
      name: 'a production install: no oidc-provider',
      setUp: () => {
        mkdirSync(join(root, 'examples', 'authorization-server'), { recursive: true });
        writeFileSync(join(root, 'examples', 'authorization-server', 'server.ts'), '');
        writeFileSync(join(root, 'package.json'), '{}');
      },
      says: /^ {2}end users: skipped, the npm package oidc-provider .* is not installed/,
    },
  ];
  for (const row of rows) {
    row.setUp();
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const report = new DemoReport(out);
    const endUser = await EndUserDemo.prepare({ execPath: process.execPath, projectRoot: root, dir: root, env: {} }, report);
    assert.equal(endUser, undefined, row.name);
    assert.equal(text.split('\n').filter(Boolean).length, 1, `${row.name}: one line, got ${text}`);
    assert.match(text, row.says, row.name);
    assert.equal(report.failures, 0, `${row.name}: a skip is not a failure`);
  }
});

test('demo --help and a bad flag', async () => {
  const help = await runCli(['demo', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--once/);
  const bad = await runCli(['demo', '--svid-ttl', '1s']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--svid-ttl 1s: must be at least 4s/);
});
