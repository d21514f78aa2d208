/**
 * Real SPIRE v1.15.3 as an OpenID Connect issuer of JWT-SVIDs: the server
 * has `jwt_issuer` set, so its JWT-SVIDs carry `iss`; SPIRE's OIDC
 * Discovery Provider reads the JWT bundle from the agent's Workload API and
 * publishes it under that issuer; the sidecar's TokenAuthenticator, as a
 * generic issuer with `discovery: true`, verifies the JWT-SVIDs, and picks
 * up a JWT authority rotated in SPIRE (`localauthority jwt prepare` then
 * `activate`) without a restart.
 *
 * test/support/spire.ts has no way to add `jwt_issuer` to its server
 * configuration, so this file starts its own server and agent from the same
 * templates (spire-config/) with that one line added. Workloads are told
 * apart by uid; this test's only workload is this process (and the provider,
 * same uid). Needs Go and a C compiler; under CI=true a missing one fails.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenAuthenticator, type TokenOutcome } from '../../../sidecar/auth/index.ts';
import type { JwtSvid } from '../../../sidecar/svid/index.ts';
import { WorkloadApiClient } from '../../../sidecar/workload/index.ts';
import { startLogged } from '../../support/logged-process.ts';
import { startOidcDiscoveryProvider } from '../../support/oidc-discovery-provider.ts';
import { freePorts } from '../../support/sidecar-harness.ts';
import { installSpire, projectRoot, renderTemplate, run } from '../../support/spire.ts';
import { Teardown } from '../../support/teardown.ts';
import { requireTools } from '../../support/tools.ts';

const td = 'example.org';
const workloadId = `spiffe://${td}/frontend`;
const audience = 'spiffe-sidecar';

/** A SPIRE server (with `jwt_issuer`) and a join-token agent in a temp folder, stopped after the test. */
async function startSpireWithJwtIssuer(t: TestContext, serverPort: number, jwtIssuer: string) {
  const { serverBin, agentBin } = await installSpire();
  const teardown = new Teardown();
  t.after(() => teardown.run());
  // Short path under /tmp: Unix socket paths are limited to 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'spire-oidc-'));
  teardown.add('remove spire folder', () => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['server', 'server-data', 'agent-data']) mkdirSync(join(dir, d), { mode: 0o700 });
  const serverSocket = join(dir, 'server', 'api.sock');
  const socketPath = join(dir, 'agent', 'api.sock');
  const values = {
    SERVER_PORT: String(serverPort),
    SERVER_SOCKET: serverSocket,
    TRUST_DOMAIN: td,
    SERVER_DATA_DIR: join(dir, 'server-data'),
    AGENT_DATA_DIR: join(dir, 'agent-data'),
    AGENT_SOCKET: socketPath,
    BOOTSTRAP_BUNDLE: join(dir, 'bootstrap.crt'),
    X509_SVID_TTL: '1h',
  };
  const template = (name: string) => renderTemplate(readFileSync(join(projectRoot, 'spire-config', name), 'utf8'), values);
  const serverConf = template('server.conf').replace(/^(\s*)trust_domain\s*=.*$/m, (line, indent: string) => `${line}\n${indent}jwt_issuer   = ${JSON.stringify(jwtIssuer)}`);
  assert.ok(serverConf.includes('jwt_issuer'), 'spire-config/server.conf has no trust_domain line to put jwt_issuer after');
  writeFileSync(join(dir, 'server.conf'), serverConf);
  writeFileSync(join(dir, 'agent.conf'), template('agent.conf'));

  const server = async (...args: string[]): Promise<string> => {
    const res = await run(serverBin, [...args, '-socketPath', serverSocket]);
    if (res.code !== 0) throw new Error(`spire-server ${args.slice(0, 3).join(' ')}: ${(res.stderr || res.stdout).trim()}`);
    return res.stdout;
  };
  const waitHealthy = async (what: string, check: () => Promise<{ code: number | null }>, exited: () => boolean, tail: () => string) => {
    const deadline = Date.now() + 30_000;
    while ((await check()).code !== 0) {
      if (exited() || Date.now() > deadline) throw new Error(`${what} did not become healthy:\n${tail()}`);
      await sleep(200);
    }
  };
  const serverProc = startLogged({ name: 'spire-server', argv: [serverBin, 'run', '-config', join(dir, 'server.conf')], logFile: join(dir, 'server.log'), cwd: dir, teardown });
  await waitHealthy('spire-server', () => run(serverBin, ['healthcheck', '-socketPath', serverSocket], { timeoutMs: 5_000 }), serverProc.exited, () => serverProc.tail());
  writeFileSync(values.BOOTSTRAP_BUNDLE, await server('bundle', 'show'));
  const token = (JSON.parse(await server('token', 'generate', '-output', 'json')) as { value: string }).value;
  const agentProc = startLogged({ name: 'spire-agent', argv: [agentBin, 'run', '-config', join(dir, 'agent.conf'), '-joinToken', token], logFile: join(dir, 'agent.log'), cwd: dir, teardown });
  await waitHealthy('spire-agent', () => run(agentBin, ['healthcheck', '-socketPath', socketPath], { timeoutMs: 5_000 }), agentProc.exited, () => agentProc.tail());
  return { socketPath, server, agentId: `spiffe://${td}/spire/agent/join_token/${token}`, logs: () => `${serverProc.tail()}\n${agentProc.tail()}` };
}

/** FetchJWTSVID, retried while the agent has not synced this workload's entry yet (bounded). */
async function fetchSvid(client: WorkloadApiClient, aud: readonly string[]): Promise<JwtSvid> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await client.fetchJwtSvid({ audience: aud });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

function kidOf(jwt: string): unknown {
  return (JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>)['kid'];
}

test('SPIRE v1.15.3 with jwt_issuer behind its OIDC Discovery Provider', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['go', 'cc'])) return;

  const [serverPort, providerPort] = await freePorts(2);
  // The issuer is the provider's own URL: the discovery document is fetched from `<iss>/.well-known/...`.
  const issuer = `http://127.0.0.1:${providerPort!}`;
  const spire = await startSpireWithJwtIssuer(t, serverPort!, issuer);
  const uid = process.getuid?.() ?? 0;
  await spire.server('entry', 'create', '-parentID', spire.agentId, '-spiffeID', workloadId, '-selector', `unix:uid:${uid}`);

  const client = new WorkloadApiClient({ address: `unix://${spire.socketPath}` });
  t.after(() => client.close());
  const svid = await fetchSvid(client, [audience]);
  // The provider runs under this uid too, so the entry above also lets it read the JWT bundle.
  const provider = await startOidcDiscoveryProvider({ cleanup: t, workloadApiSocket: spire.socketPath, trustDomain: td, port: providerPort!, jwtIssuer: issuer });

  const auth = new TokenAuthenticator({
    providers: [{ name: 'spire', issuer, audiences: [audience], discovery: true, keySetCache: { unknownKeyRefetchIntervalMs: 1_000 } }],
  });
  t.after(() => auth.close());
  auth.start();
  const authenticate = async (token: string): Promise<TokenOutcome> => auth.authenticate(['authorization', `Bearer ${token}`], undefined);

  await t.test('the discovery document names the configured issuer and its keys', async () => {
    assert.equal(provider.issuer, issuer);
    assert.equal(provider.jwksUri, `${issuer}/keys`);
    assert.ok((await provider.keyIds()).includes(String(kidOf(svid.token))), 'the JWT-SVID key is published');
    const readiness = await auth.ready(10_000);
    assert.equal(readiness.ready, true, JSON.stringify(readiness.providers));
  });

  await t.test('a JWT-SVID carries iss and is valid through discovery', async () => {
    assert.equal(svid.claims['iss'], issuer);
    const out = await authenticate(svid.token);
    assert.equal(out.kind, 'valid', JSON.stringify(out));
    const v = (out as Extract<TokenOutcome, { kind: 'valid' }>).token;
    assert.equal(v.issuer, issuer);
    assert.equal(v.subject, workloadId);
  });

  await t.test('a JWT-SVID for another audience is refused', async () => {
    const other = await fetchSvid(client, ['other-api']);
    const out = await authenticate(other.token);
    assert.equal(out.kind, 'invalid', JSON.stringify(out));
    assert.equal((out as Extract<TokenOutcome, { kind: 'invalid' }>).reason, 'wrong_audience');
  });

  await t.test('a JWT authority rotated in SPIRE is accepted without restarting the authenticator', async () => {
    const prepared = JSON.parse(await spire.server('localauthority', 'jwt', 'prepare', '-output', 'json')) as { prepared_authority?: { authority_id?: string } };
    const authorityId = prepared.prepared_authority?.authority_id;
    assert.ok(authorityId, `prepare gave no authority ID: ${JSON.stringify(prepared)}`);
    await spire.server('localauthority', 'jwt', 'activate', '-authorityID', authorityId, '-output', 'json');
    // A new audience set: the agent caches JWT-SVIDs per audience, so this one is minted by the new authority.
    const deadline = Date.now() + 30_000;
    let fresh = await fetchSvid(client, [audience, 'after-rotation']);
    while (kidOf(fresh.token) === kidOf(svid.token) && Date.now() < deadline) {
      await sleep(500);
      fresh = await fetchSvid(client, [audience, `after-rotation-${Date.now()}`]);
    }
    assert.notEqual(kidOf(fresh.token), kidOf(svid.token), `SPIRE still signs with the old key:\n${spire.logs()}`);
    // The provider polls the bundle every second; until it has the new key the outcome is unknown_key.
    let out = await authenticate(fresh.token);
    while (out.kind === 'invalid' && out.reason === 'unknown_key' && Date.now() < deadline) {
      await sleep(1_100);
      out = await authenticate(fresh.token);
    }
    assert.equal(out.kind, 'valid', JSON.stringify(out));
    // The old key stays in the bundle until it is tainted or revoked.
    assert.equal((await authenticate(svid.token)).kind, 'valid');
  });
});
