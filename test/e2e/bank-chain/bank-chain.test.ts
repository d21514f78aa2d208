/**
 * The bank chain across pods (network namespaces on a bridge, real SPIRE,
 * sidecars under their own uids, `spiffe-sidecar iptables apply`), with a
 * real authorization server (oidc-provider, examples/authorization-server):
 *
 *   client ──opaque token──▶ web ──▶ edge ──▶ accounts ──▶ payments
 *
 * `web` is the ingress the outside client enters through; its sidecar
 * forwards the user's opaque token. `edge` introspects it (RFC 7662) and,
 * as a phantom token, exchanges it for a JWT its app gets. Every later hop's
 * outbound exchanges the token its app propagates (RFC 8693) for one made
 * for the next upstream alone, with a narrower scope and its own JWT-SVID as
 * `actor_token`, so `payments` sees `act` naming accounts, then edge.
 * `intruder` is a workload of the trust domain that steals tokens and
 * replays them (its sidecar forwards whatever its app sends).
 *
 * The authorization server runs on the node's 127.0.0.1; each pod that
 * talks to it reaches it at the same address through a relay run as its
 * sidecar's uid (as-relay.ts), so every sidecar uses one issuer URL.
 *
 * Needs root, ip, iptables, setpriv, curl, pgrep and SPIRE (install-spire.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireTools } from '../../support/tools.ts';
import { assertReachableByOthers, nodeBin, projectRoot, run as runCommand, type Credentials } from '../../support/spire.ts';
import type { LoggedProcess } from '../../support/logged-process.ts';
import { podCurl } from '../../support/pod-checks.ts';
import { as, assertAllReady, assertNoLeftovers, NODE_ARGV as NODE, POD_PORTS, PodRun, SIDECAR_MAIN as MAIN, type PodRunRecord } from '../../support/pod-run.ts';
import { startOidcProvider, type OidcProvider } from '../../support/oidc-provider.ts';
import { claimsOf } from '../../support/jwt-sign.ts';

const TD = 'example.org';
const PODS = ['web', 'edge', 'accounts', 'payments', 'intruder'] as const;
type PodName = (typeof PODS)[number];
const ID: Record<PodName, string> = {
  web: `spiffe://${TD}/ns/bank/sa/web`,
  edge: `spiffe://${TD}/ns/bank/sa/edge`,
  accounts: `spiffe://${TD}/ns/bank/sa/accounts`,
  payments: `spiffe://${TD}/ns/bank/sa/payments`,
  intruder: `spiffe://${TD}/ns/bank/sa/intruder`,
};
/** The resource (audience) each hop's tokens are made for. */
const AUD = {
  edge: 'https://edge.bank.test',
  accounts: 'https://accounts.bank.test',
  payments: 'https://payments.bank.test',
} as const;
const USER_SCOPE = 'accounts:read payments:read payments:write';
const ACCOUNTS_SCOPE = 'accounts:read payments:read';
const PAYMENTS_SCOPE = 'payments:read';
/** Sidecar uid (app uid = + 1) per pod. */
const UID: Record<PodName, number> = { web: 1411, edge: 1421, accounts: 1431, payments: 1441, intruder: 1451 };
const appOf = (pod: PodName): Credentials => as(UID[pod] + 1);

const { inbound: INBOUND_PORT, outbound: OUTBOUND_PORT, admin: ADMIN_PORT } = POD_PORTS;
const HERE = join('test', 'e2e', 'bank-chain');
/** Exchanged tokens live 60 s and are cached until exp − 50 s: at most 10 s. */
const TOKEN_TTL_SECONDS = 60;
const EXCHANGE_SKEW = '50s';
const INTROSPECTION_CACHE = '2s';
/** How long a revocation may take to bite everywhere (the cache bounds above, plus margin). */
const REVOCATION_DEADLINE_MS = 30_000;

const record: PodRunRecord = {};

interface Seen {
  readonly app: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A relay on the node from `host`:<random> to 127.0.0.1:`targetPort` (the pods' way to the authorization server). */
async function nodeRelay(host: string, targetPort: number): Promise<{ port: number; server: Server }> {
  const server = createServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1');
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('node relay: no port');
  return { port: addr.port, server };
}

test('bank chain in pods: opaque token in, a narrowed, audience-bound token with the actor chain at every hop', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'curl', 'setpriv', 'pgrep'], { root: true })) return;
  assertReachableByOthers([
    { path: nodeBin, exec: true },
    { path: join(projectRoot, MAIN) },
    { path: join(projectRoot, HERE, 'bank-app.ts') },
    { path: join(projectRoot, HERE, 'as-relay.ts') },
  ]);
  const run = await PodRun.start(t, {
    label: 'bank',
    trustDomain: TD,
    network: { pods: [...PODS], kubernetesNamespace: 'bank' },
    entries: PODS.map((pod) => ({ spiffeId: ID[pod], uid: UID[pod] })),
    record,
  });
  const { net, dir, teardown } = run;
  const s = run.spire;
  const step = run.step.bind(run);

  // The authorization server verifies actor tokens (JWT-SVIDs) with the trust domain's JWT keys.
  const jwks = await step('JWT bundle', async () => {
    const r = await runCommand(s.serverBin, ['bundle', 'show', '-format', 'spiffe', '-socketPath', join(s.dir, 'server', 'api.sock')]);
    if (r.code !== 0) throw new Error(r.stderr);
    const set = JSON.parse(r.stdout) as { keys: { use?: string }[] };
    return JSON.stringify({ keys: set.keys.filter((k) => k.use === 'jwt-svid') });
  });
  const az = await step('authorization server', () =>
    startOidcProvider({
      cleanup: { after: (fn) => teardown.add('stop the authorization server', () => {}, async () => void (await fn())) },
      actorJwks: jwks,
      accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
      resources: Object.values(AUD).map((identifier) => ({ identifier, scope: USER_SCOPE, format: 'jwt' as const })),
    }),
  );
  run.addLogSource('authorization server', () => az.process.tail(40));
  const asPort = Number(new URL(az.issuer).port);
  const relay = await step('node relay', () => nodeRelay(net.gateway, asPort));
  teardown.add('close the node relay', () => relay.server.close());

  await step('apps and relays', async () => {
    const waits: Promise<string>[] = [];
    for (const pod of ['edge', 'accounts', 'payments'] as const) {
      waits.push(run.startIn(`${pod}-app`, pod, appOf(pod), [...NODE, join(HERE, 'bank-app.ts'), pod, dir]).waitForLine(/^ready$/, 20_000));
      waits.push(run.startIn(`${pod}-relay`, pod, as(UID[pod]), [...NODE, join(HERE, 'as-relay.ts'), String(asPort), net.gateway, String(relay.port), dir]).waitForLine(/^ready$/, 20_000));
    }
    await Promise.all(waits);
  });

  await step('iptables apply', () => run.applyIptables(PODS.map((pod) => ({ pod, uid: UID[pod] }))));

  const configs = writeConfigs(dir, s.socketAddress, az);
  await step('sidecars', async () => {
    const started = new Map<string, LoggedProcess>();
    for (const pod of PODS) {
      const file = run.writeFile(`${pod}-sidecar.json`, JSON.stringify(configs[pod], null, 2));
      started.set(pod, run.startIn(`${pod}-sidecar`, pod, as(UID[pod]), [...NODE, MAIN, 'run', '--config', file]));
    }
    assertAllReady(await run.sidecarsReady(started, 60_000));
  });

  const seen = (app: 'edge' | 'accounts' | 'payments'): Seen[] =>
    readFileSync(join(dir, `${app}-app.log`), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('SEEN '))
      .map((l) => JSON.parse(l.slice(5)) as Seen);
  const userToken = (subject: string): Promise<string> =>
    az.issueToken({ format: 'opaque', clientId: 'app', subject, scope: USER_SCOPE, expiresInSeconds: 600 });
  /** The outside client's request, entering through the web pod. */
  const viaWeb = (token: string, path: string) => podCurl(net, 'web', appOf('web'), ['-H', `authorization: Bearer ${token}`, `http://edge:8080${path}`], 10);
  /** A request an app in `pod` sends to `url` with `token`. */
  const fromPod = (pod: PodName, token: string, url: string) => podCurl(net, pod, appOf(pod), ['-H', `authorization: Bearer ${token}`, url], 10);

  const sub = run.sub.bind(run);

  const alice = await userToken('alice');
  let accountsToken = '';
  let paymentsToken = '';

  await sub('payments receives a token for payments alone: narrowed scope, act naming accounts then edge; never the opaque or the edge token', async () => {
    const r = await viaWeb(alice, '/accounts/alice');
    assert.equal(r.status, 200, r.body);
    const edgeSeen = seen('edge').at(-1)!;
    const accountsSeen = seen('accounts').at(-1)!;
    const paymentsSeen = seen('payments').at(-1)!;
    assert.equal(paymentsSeen.url, '/payments/alice');
    // edge: the phantom JWT made from the opaque token, for edge.
    const edgeClaims = claimsOf(edgeSeen.headers['authorization']);
    assert.deepEqual([edgeClaims['aud']].flat(), [AUD.edge]);
    assert.equal(edgeClaims['sub'], 'alice');
    // accounts: exchanged by edge's sidecar.
    accountsToken = accountsSeen.headers['authorization']!.replace(/^Bearer /, '');
    const accountsClaims = claimsOf(accountsSeen.headers['authorization']);
    assert.deepEqual([accountsClaims['aud']].flat(), [AUD.accounts]);
    assert.equal(accountsClaims['scope'], ACCOUNTS_SCOPE);
    assert.deepEqual(accountsClaims['act'], { sub: ID.edge });
    // payments: exchanged by accounts' sidecar.
    paymentsToken = paymentsSeen.headers['authorization']!.replace(/^Bearer /, '');
    const claims = claimsOf(paymentsSeen.headers['authorization']);
    assert.equal(claims['sub'], 'alice');
    assert.deepEqual([claims['aud']].flat(), [AUD.payments]);
    assert.equal(claims['scope'], PAYMENTS_SCOPE);
    assert.deepEqual(claims['act'], { sub: ID.accounts, act: { sub: ID.edge } });
    assert.equal(paymentsSeen.headers['x-auth-subject'], 'alice', 'payments\' sidecar verified it');
    assert.equal(paymentsSeen.headers['x-client-spiffe-id'], ID.accounts);
    // What payments must never see: the opaque token, edge's token, accounts' token.
    const edgeToken = edgeSeen.headers['authorization']!.replace(/^Bearer /, '');
    for (const p of seen('payments')) {
      const text = JSON.stringify(p.headers);
      assert.ok(!text.includes(alice), 'the opaque token reached payments');
      assert.ok(!text.includes(edgeToken), 'edge\'s token reached payments');
      assert.ok(!text.includes(accountsToken), 'accounts\' token reached payments');
    }
    for (const p of [...seen('edge'), ...seen('accounts')]) assert.ok(!JSON.stringify(p.headers).includes(alice), `the opaque token reached ${p.app}`);
  });

  await sub('accounts: alice reads her own account and is refused on bob\'s (path bound to the sub claim)', async () => {
    const rows: [string, number][] = [
      ['/accounts/alice/profile', 200],
      ['/accounts/bob/profile', 403],
      ['/accounts/bob', 403],
    ];
    for (const [path, want] of rows) {
      const before = seen('accounts').length;
      const r = await viaWeb(alice, path);
      assert.equal(r.status, want, `${path}: ${r.body}`);
      if (want !== 200) assert.equal(seen('accounts').length, before, `${path} reached the accounts app`);
    }
  });

  await sub('a stolen token replayed against payments from a workload without the right identity is refused', async () => {
    const before = seen('payments').length;
    const rows: [string, string, number][] = [
      // accounts' token: wrong audience for payments.
      ['accounts token', accountsToken, 401],
      // payments' own token from the wrong caller: the policy binds it to accounts.
      ['payments token', paymentsToken, 403],
    ];
    for (const [what, token, want] of rows) {
      const r = await fromPod('intruder', token, 'http://payments:8080/payments/alice');
      assert.equal(r.status, want, `${what}: ${r.body}`);
    }
    assert.equal(seen('payments').length, before, 'a replay reached the payments app');
  });

  await sub('a revoked token stops working everywhere within the cache TTL', async () => {
    const revoked = await userToken('alice');
    assert.equal((await viaWeb(revoked, '/accounts/alice')).status, 200);
    const derived = seen('accounts').at(-1)!.headers['authorization']!.replace(/^Bearer /, '');
    assert.ok(await az.revoke(revoked));
    const deadline = Date.now() + REVOCATION_DEADLINE_MS;
    const stopped = { edge: 0, accountsOutbound: 0 };
    while (Date.now() < deadline && (stopped.edge === 0 || stopped.accountsOutbound === 0)) {
      if (stopped.edge === 0) {
        const r = await viaWeb(revoked, '/accounts/alice');
        if (r.status === 401) stopped.edge = r.status;
        else assert.equal(r.status, 200, r.body);
      }
      if (stopped.accountsOutbound === 0) {
        // The token accounts holds, exchanged again by its sidecar: the chain's root is revoked.
        const r = await fromPod('accounts', derived, 'http://payments:8080/payments/alice');
        if (r.status === 401) stopped.accountsOutbound = r.status;
        else assert.equal(r.status, 200, r.body);
      }
      await sleep(500);
    }
    assert.deepEqual(stopped, { edge: 401, accountsOutbound: 401 });
  });

  await sub('the authorization server down: 503 at the hop that needs it, never 200', async () => {
    const fresh = await userToken('alice');
    // A token accounts holds but never exchanged (the profile path makes no downstream call).
    assert.equal((await viaWeb(fresh, '/accounts/alice/profile')).status, 200);
    const unexchanged = seen('accounts').at(-1)!.headers['authorization']!.replace(/^Bearer /, '');
    const neverSeen = await userToken('alice');
    const paymentsBefore = seen('payments').length;
    await az.stop();
    const atEdge = await viaWeb(neverSeen, '/accounts/alice');
    assert.equal(atEdge.status, 503, `edge must introspect: ${atEdge.body}`);
    const atAccounts = await fromPod('accounts', unexchanged, 'http://payments:8080/payments/alice');
    assert.equal(atAccounts.status, 503, `accounts must exchange: ${atAccounts.body}`);
    assert.equal(seen('payments').length, paymentsBefore, 'payments was reached without an exchanged token');
  });
});

test('bank chain teardown leaves no namespace, link, iptables rule or process behind', (t) => {
  assertNoLeftovers(t, record, 'bank chain');
});

/** Every sidecar's configuration (JSON is YAML), policies and secret files written to `dir`. */
function writeConfigs(dir: string, socket: string, az: OidcProvider): Record<PodName, unknown> {
  const secretFile = (pod: PodName): string => {
    const file = join(dir, `${pod}-client.secret`);
    writeFileSync(file, az.clients.sidecar.secret!, { mode: 0o600 });
    chownSync(file, UID[pod], UID[pod]);
    return file;
  };
  const policy = (pod: PodName, lines: readonly string[]): string => {
    const file = join(dir, `${pod}-policy.yaml`);
    writeFileSync(file, ['version: 2', 'rules:', ...lines, ''].join('\n'), { mode: 0o644 });
    return file;
  };
  const clientAuth = (pod: PodName) => ({ method: 'client_secret_basic', clientId: az.clients.sidecar.id, clientSecretFile: secretFile(pod) });
  const tokenExchange = (pod: PodName) => ({ endpoint: az.tokenEndpoint, clientAuth: clientAuth(pod), actorToken: true, actorTokenAudience: az.issuer, expirySkew: EXCHANGE_SKEW });
  const jwt = (aud: string) => ({ jwt: [{ name: 'bank', issuer: az.issuer, discovery: true, audiences: [aud] }], forwardToken: true });
  const base = (extra: Record<string, unknown>) => ({
    spiffe: { endpointSocket: socket },
    admin: { listen: `0.0.0.0:${ADMIN_PORT}` },
    drain: { timeout: '1s' },
    log: { level: 'debug', accessLog: true },
    ...extra,
  });
  const inbound = (policyFile: string) => ({ listen: `0.0.0.0:${INBOUND_PORT}`, app: '127.0.0.1:8080', policyFile });
  const outbound = (upstreams: readonly unknown[], extra: Record<string, unknown> = {}) => ({
    listen: `127.0.0.1:${OUTBOUND_PORT}`,
    transparent: { enabled: true, ...(extra['transparentToken'] !== undefined ? { token: extra['transparentToken'] } : {}) },
    upstreams,
    ...(extra['tokenExchange'] !== undefined ? { tokenExchange: extra['tokenExchange'] } : {}),
  });
  return {
    web: base({ outbound: outbound([{ host: 'edge', serverId: ID.edge, token: 'forward' }]) }),
    edge: base({
      inbound: inbound(policy('edge', ['  - name: customers-via-web', '    from:', `      - id: ${ID.web}`, '        claims:', `          - { claim: scope, contains: "accounts:read" }`, '    to:', '      - pathPrefixes: [/accounts]', '        methods: [GET]'])),
      auth: {
        introspection: {
          name: 'bank',
          endpoint: az.introspectionEndpoint,
          issuer: az.issuer,
          clientAuth: clientAuth('edge'),
          cacheMaxTtl: INTROSPECTION_CACHE,
          phantom: true,
          phantomSource: 'token-exchange',
          exchangeEndpoint: az.tokenEndpoint,
          exchangeAudience: AUD.edge,
        },
      },
      outbound: outbound([{ host: 'accounts', serverId: ID.accounts, token: { mode: 'exchange', audience: AUD.accounts, scope: ACCOUNTS_SCOPE } }], { tokenExchange: tokenExchange('edge') }),
    }),
    accounts: base({
      inbound: inbound(
        policy('accounts', [
          '  - name: customer-reads-own-account',
          '    from:',
          `      - id: ${ID.edge}`,
          '        claims:',
          `          - { claim: scope, contains: "accounts:read" }`,
          '    to:',
          '      - pathTemplates: ["/accounts/{claims.sub}", "/accounts/{claims.sub}/profile"]',
          '        methods: [GET]',
        ]),
      ),
      auth: jwt(AUD.accounts),
      outbound: outbound([{ host: 'payments', serverId: ID.payments, token: { mode: 'exchange', audience: AUD.payments, scope: PAYMENTS_SCOPE } }], { tokenExchange: tokenExchange('accounts') }),
    }),
    payments: base({
      inbound: inbound(
        policy('payments', [
          '  - name: accounts-on-behalf-of-the-customer',
          '    from:',
          `      - id: ${ID.accounts}`,
          '        claims:',
          `          - { claim: scope, contains: "payments:read" }`,
          `          - { claim: act.sub, equals: "${ID.accounts}" }`,
          '    to:',
          '      - pathTemplates: ["/payments/{claims.sub}"]',
          '        methods: [GET]',
        ]),
      ),
      auth: jwt(AUD.payments),
    }),
    // Forwards whatever its app sends: the thief's sidecar.
    intruder: base({ outbound: outbound([], { transparentToken: 'forward' }) }),
  };
}

