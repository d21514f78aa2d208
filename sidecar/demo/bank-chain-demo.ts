import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describeError } from '../core/index.ts';
import type { AuthorizationServer } from './authorization-server.ts';
import { startBankApp, type BankApp, type BankRole, type SeenRequest } from './bank-chain-apps.ts';
import type { DemoReport } from './demo-report.ts';
import type { AuthorizationServerAdditions } from './end-user-demo.ts';
import { freePorts } from './free-ports.ts';
import { httpCall, type HttpResult } from './http-call.ts';
import { describeJwt, describeJwtHeader, viewJwt, actorChain, type JwtView } from './jwt-view.ts';
import { SidecarProcess } from './sidecar-process.ts';

const ROLES = ['edge', 'accounts', 'payments'] as const satisfies readonly BankRole[];
/** The resource (RFC 8707) each hop's tokens are made for. */
const AUD: Record<BankRole, string> = {
  edge: 'https://edge.bank.example',
  accounts: 'https://accounts.bank.example',
  payments: 'https://payments.bank.example',
};
/** What the user's token holds, and what each exchange narrows it to. */
const USER_SCOPE = 'accounts:read payments:read payments:write';
const ACCOUNTS_SCOPE = 'accounts:read payments:read';
const PAYMENTS_SCOPE = 'payments:read';
/** The user's OAuth client (the bank's web front end), and the client the chain's sidecars authenticate as. */
const BANK_WEB = 'bank-web';
const BANK_SIDECAR = 'bank-sidecar';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SECRET_FILE = 'bank-sidecar-client.secret';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

/** The chain's SPIFFE IDs in `trustDomain`. */
function idsOf(trustDomain: string): Record<BankRole, string> {
  return { edge: `spiffe://${trustDomain}/edge`, accounts: `spiffe://${trustDomain}/accounts`, payments: `spiffe://${trustDomain}/payments` };
}

/** Options of {@link BankChainDemo.start}. */
export interface BankChainOptions {
  readonly execPath: string;
  readonly mainScript: string;
  /** The demo's temp directory: the dev agent's sockets, configs, policies, logs, the client secret. */
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly trustDomain: string;
  /** The server {@link BankChainDemo.registration} was given to. */
  readonly server: AuthorizationServer;
  /** The workload whose sidecar the outside client enters through; it forwards the user's token to edge. */
  readonly ingressId: string;
}

/** The loopback ports of one hop. */
interface HopPorts {
  readonly app: number;
  readonly inbound: number;
  readonly outbound: number;
  readonly admin: number;
}

interface Hop {
  readonly role: BankRole;
  readonly ports: HopPorts;
  readonly app: BankApp;
  readonly sidecar: SidecarProcess;
}

/**
 * The bank chain of the demo, as the pod e2e runs it
 * (test/e2e/bank-chain/bank-chain.test.ts) but on the dev agent: a client
 * with an opaque token enters through the ingress's sidecar, `edge`
 * introspects the token (RFC 7662) and hands its app a JWT obtained by
 * token exchange (a phantom token); `edge` → `accounts` → `payments` each
 * go through `token: exchange` (RFC 8693) with the next hop's audience, a
 * narrower scope and the hop's JWT-SVID as `actor_token`, so every app
 * gets a token made for it alone, naming the workloads that acted. Each of
 * the three workloads is an app plus a real `spiffe-sidecar run` process;
 * the checks read what each app received.
 */
export class BankChainDemo {
  readonly #o: BankChainOptions;
  readonly #hops: ReadonlyMap<BankRole, Hop>;
  readonly #ids: Record<BankRole, string>;

  private constructor(o: BankChainOptions, hops: ReadonlyMap<BankRole, Hop>) {
    this.#o = o;
    this.#hops = hops;
    this.#ids = idsOf(o.trustDomain);
  }

  /** The dev agent's workload entries for the chain (sockets in `dir`). */
  static workloads(dir: string, trustDomain: string): { socketPath: string; ids: string[] }[] {
    const ids = idsOf(trustDomain);
    return ROLES.map((r) => ({ socketPath: join(dir, `${r}.sock`), ids: [ids[r]] }));
  }

  /**
   * What the authorization server must know for the chain: the user's
   * client, the sidecars' client (introspection and token exchange; its
   * secret is written to `dir`, mode 0600), a JWT resource per hop, and
   * `actorJwks`, the trust domain's JWT bundle, which verifies the
   * sidecars' JWT-SVIDs sent as actor tokens.
   */
  static registration(dir: string, actorJwks: string): AuthorizationServerAdditions {
    const secret = randomBytes(24).toString('base64url');
    writeFileSync(join(dir, SECRET_FILE), secret, { mode: 0o600 });
    const client = { token_endpoint_auth_method: 'client_secret_basic', scope: USER_SCOPE } as const;
    return {
      clients: [
        { ...client, client_id: BANK_SIDECAR, client_secret: secret, grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT] },
        { ...client, client_id: BANK_WEB, client_secret: randomBytes(24).toString('base64url'), grant_types: ['client_credentials'] },
      ],
      resources: ROLES.map((r) => ({ identifier: AUD[r], scope: USER_SCOPE, format: 'jwt' as const })),
      actorJwks,
    };
  }

  /** Starts the three apps and their sidecars (not waited for: {@link run} waits); on failure what started is stopped. */
  static async start(o: BankChainOptions): Promise<BankChainDemo> {
    const [p = [], a = [], e = []] = chunk(await freePorts(12), 4);
    const ports = { payments: hopPorts(p), accounts: hopPorts(a), edge: hopPorts(e) };
    const apps: BankApp[] = [];
    const hops = new Map<BankRole, Hop>();
    try {
      const payments = await startBankApp('payments', ports.payments.app);
      apps.push(payments);
      const accounts = await startBankApp('accounts', ports.accounts.app, { host: 'payments', outboundPort: ports.accounts.outbound });
      apps.push(accounts);
      const edge = await startBankApp('edge', ports.edge.app, { host: 'accounts', outboundPort: ports.edge.outbound });
      apps.push(edge);
      const configs = sidecarConfigs(o, ports);
      const started: Record<BankRole, BankApp> = { edge, accounts, payments };
      for (const role of ROLES) {
        const configPath = join(o.dir, `${role}-sidecar.yaml`);
        writeFileSync(configPath, stringify({ ...configs[role], log: { level: 'info' } }));
        const sidecar = SidecarProcess.spawn({ execPath: o.execPath, mainScript: o.mainScript, configPath, adminPort: ports[role].admin, env: o.env, logFile: join(o.dir, `${role}-sidecar.log`) });
        hops.set(role, { role, ports: ports[role], app: started[role], sidecar });
      }
      return new BankChainDemo(o, hops);
    } catch (err) {
      await Promise.all([...[...hops.values()].map((h) => h.sidecar.stopWithin(STOP_GRACE_MS)), ...apps.map((x) => x.close())]);
      throw err;
    }
  }

  /** The route the ingress's sidecar needs: Host `edge` to edge's inbound, the user's token forwarded. */
  ingressRoute(): Record<string, unknown> {
    return { host: 'edge', address: `127.0.0.1:${this.#hop('edge').ports.inbound}`, serverId: this.#ids.edge, token: 'forward' };
  }

  /** Rows for the demo's overview table: workload, listeners, admin port. */
  overviewRows(): [string, string, number][] {
    return ROLES.map((r) => {
      const { ports } = this.#hop(r);
      const out = r === 'payments' ? '' : `, outbound 127.0.0.1:${ports.outbound}`;
      return [r, `sidecar inbound 127.0.0.1:${ports.inbound} (mTLS) -> app 127.0.0.1:${ports.app}${out}`, ports.admin];
    });
  }

  /** Lines for the demo's overview, under the table. */
  describe(): string[] {
    return [
      `  bank chain: edge, accounts and payments authenticate as client ${BANK_SIDECAR} (secret in ${join(this.#o.dir, SECRET_FILE)}) to introspect and exchange;`,
      `  the authorization server verifies their JWT-SVIDs (actor tokens) with the dev agent's JWT keys; resources ${ROLES.map((r) => AUD[r]).join(', ')}`,
    ];
  }

  /** Runs the chain's checks; the client enters through the ingress sidecar's outbound listener on `ingressPort`. */
  async run(report: DemoReport, ingressPort: number): Promise<void> {
    report.section("the bank chain: a client with alice's opaque token -> frontend's sidecar (forwards it) -> edge -> accounts -> payments");
    report.say("    edge's sidecar introspects the opaque token and gives its app a JWT for edge (phantom token, by RFC 8693 exchange); edge's and");
    report.say("    accounts' sidecars exchange the token their app passes on for one made for the next hop, narrower, with their JWT-SVID as actor_token");
    const failuresBefore = report.failures;
    try {
      await Promise.all(ROLES.map((r) => this.#hop(r).sidecar.waitReady(READY_TIMEOUT_MS)));
    } catch (err) {
      report.check(false, "the bank chain's sidecars are ready", describeError(err));
      this.#printTails(report);
      return;
    }
    const opaque = await this.#userToken(600);
    const counts = this.#counts();
    const r = await this.#call(ingressPort, '/accounts/alice', opaque);
    const grew = this.#counts().map((n, i) => n - counts[i]!);
    if (!report.check(r.status === 200 && grew.every((n) => n === 1), `alice reads /accounts/alice through the chain: ${r.status} (the edge, accounts and payments apps each got the call)`, r.body)) {
      this.#printTails(report);
      return;
    }
    const last = (role: BankRole): SeenRequest => this.#hop(role).app.seen().at(-1)!;
    const got = { edge: last('edge'), accounts: last('accounts'), payments: last('payments') };
    const views = { edge: this.#show(report, 'edge', got.edge), accounts: this.#show(report, 'accounts', got.accounts), payments: this.#show(report, 'payments', got.payments) };
    this.#checkTokens(report, views);
    const everything = ROLES.flatMap((role) => this.#hop(role).app.seen());
    report.check(everything.length > 0 && everything.every((s) => !s.headerValues.some((v) => v.includes(opaque))), 'no hop saw the opaque token (in any header the edge, accounts and payments apps received)');
    const tokens = ROLES.map((role) => got[role].authorization ?? '');
    const laterSaw = (i: number): boolean => ROLES.slice(i + 1).some((role) => this.#hop(role).app.seen().some((s) => s.headerValues.some((v) => v.includes(tokens[i]!))));
    report.check(
      new Set(tokens).size === 3 && tokens.every((t, i) => t !== '' && !laterSaw(i)),
      "each hop's token reached that hop alone: three different tokens, none seen by a later hop",
    );

    const before = this.#counts();
    const bob = await this.#call(ingressPort, '/accounts/bob', opaque);
    const [edgeGrew, accountsGrew, paymentsGrew] = this.#counts().map((n, i) => n - before[i]!);
    const said = downstreamText(bob);
    report.check(
      bob.status === 403 && edgeGrew === 1 && accountsGrew === 0 && paymentsGrew === 0,
      `alice on bob's account /accounts/bob: ${bob.status} at accounts (${said}); the edge app passed it on, the accounts app never saw it`,
      bob.body,
    );
    if (report.failures > failuresBefore) this.#printTails(report);
  }

  /** A "try it" line: a curl through the chain with an opaque token for alice (an hour long). */
  async tryLines(ingressPort: number): Promise<[string, string][]> {
    const token = await this.#userToken(3600);
    return [
      [
        `curl -H 'Host: edge' -H 'Authorization: Bearer ${token}' http://127.0.0.1:${ingressPort}/accounts/alice`,
        "as alice through the bank chain (frontend's sidecar -> edge -> accounts -> payments): each hop answers the claims of the token it got; /accounts/bob is 403 at accounts",
      ],
    ];
  }

  /** The chain's sidecar log files, for the demo's closing lines. */
  logFiles(): string {
    return join(this.#o.dir, `{${ROLES.join(',')}}-sidecar.log`);
  }

  /** Stops the three sidecars (at once) and apps. */
  async stop(): Promise<void> {
    await Promise.all([...this.#hops.values()].map((h) => h.sidecar.stopWithin(STOP_GRACE_MS)));
    await Promise.all([...this.#hops.values()].map((h) => h.app.close()));
  }

  #hop(role: BankRole): Hop {
    return this.#hops.get(role)!;
  }

  #counts(): number[] {
    return ROLES.map((r) => this.#hop(r).app.requests());
  }

  #userToken(expiresInSeconds: number): Promise<string> {
    return this.#o.server.mintToken({ format: 'opaque', clientId: BANK_WEB, subject: 'alice', scope: USER_SCOPE, expiresInSeconds });
  }

  #call(ingressPort: number, path: string, token: string): Promise<HttpResult> {
    return httpCall(ingressPort, path, { headers: { host: 'edge', authorization: `Bearer ${token}` } });
  }

  /** Prints what one app received in Authorization: the decoded JWT, never the token itself. */
  #show(report: DemoReport, role: BankRole, seen: SeenRequest): JwtView | undefined {
    const label = `${role} app got`.padEnd(18);
    const view = viewJwt(seen.authorization);
    if (view === undefined) {
      report.say(`    ${label}${seen.authorization === null ? 'no Authorization header' : 'Authorization holding something other than a JWT (not shown)'}`);
      return undefined;
    }
    report.say(`    ${label}Authorization: Bearer ${describeJwtHeader(view)}, caller ${seen.callerSpiffeId ?? '(none)'}`);
    report.say(`    ${''.padEnd(18)}${describeJwt(view)}`);
    return view;
  }

  #checkTokens(report: DemoReport, v: Record<BankRole, JwtView | undefined>): void {
    const aud = (x: JwtView | undefined): string[] => [x?.claims['aud']].flat().map(String);
    const scope = (x: JwtView | undefined): unknown => x?.claims['scope'];
    const acts = (x: JwtView | undefined): string[] => (x === undefined ? [] : actorChain(x.claims));
    const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
    const ids = this.#ids;
    report.check(
      same(aud(v.payments), [AUD.payments]) && scope(v.payments) === PAYMENTS_SCOPE && same(acts(v.payments), [ids.accounts, ids.edge]) && v.payments?.claims['sub'] === 'alice',
      `payments' token: aud ${AUD.payments}, scope "${PAYMENTS_SCOPE}" (alice's: "${USER_SCOPE}"), act names accounts, then edge`,
    );
    report.check(
      same(aud(v.accounts), [AUD.accounts]) && scope(v.accounts) === ACCOUNTS_SCOPE && same(acts(v.accounts), [ids.edge]),
      `accounts' token: aud ${AUD.accounts}, scope "${ACCOUNTS_SCOPE}", act names edge`,
    );
    report.check(
      same(aud(v.edge), [AUD.edge]) && v.edge?.claims['sub'] === 'alice' && acts(v.edge).length === 0,
      `edge's token: the phantom JWT for the opaque one, aud ${AUD.edge}, sub alice, no actor yet`,
    );
  }

  #printTails(report: DemoReport): void {
    for (const role of ROLES) report.say(`--- ${role} sidecar, last lines:\n${this.#hop(role).sidecar.tail(15)}`);
  }
}

/** Every sidecar's configuration and policy file of the chain (policies written to `o.dir`). */
function sidecarConfigs(o: BankChainOptions, ports: Record<BankRole, HopPorts>): Record<BankRole, Record<string, unknown>> {
  const ids = idsOf(o.trustDomain);
  const s = o.server;
  const policy = (role: BankRole, rule: Record<string, unknown>): string => {
    const file = join(o.dir, `${role}-policy.yaml`);
    writeFileSync(file, stringify({ version: 2, rules: [rule] }));
    return file;
  };
  const clientAuth = { method: 'client_secret_basic', clientId: BANK_SIDECAR, clientSecretFile: join(o.dir, SECRET_FILE) };
  // The hop's JWT-SVID goes along as actor_token, so the issued token's `act` names it (RFC 8693 §4.1).
  const tokenExchange = { endpoint: s.tokenEndpoint, clientAuth, actorToken: true, actorTokenAudience: s.issuer };
  const base = (role: BankRole, rule: Record<string, unknown>): Record<string, unknown> => ({
    spiffe: { endpointSocket: `unix://${join(o.dir, `${role}.sock`)}` },
    inbound: { listen: `127.0.0.1:${ports[role].inbound}`, app: `127.0.0.1:${ports[role].app}`, policyFile: policy(role, rule) },
    admin: { listen: `127.0.0.1:${ports[role].admin}` },
    drain: { timeout: '1s' },
  });
  const exchangeTo = (role: BankRole, next: BankRole, scope: string): Record<string, unknown> => ({
    listen: `127.0.0.1:${ports[role].outbound}`,
    upstreams: [{ host: next, address: `127.0.0.1:${ports[next].inbound}`, serverId: ids[next], token: { mode: 'exchange', audience: AUD[next], scope } }],
    tokenExchange,
  });
  // The app gets the verified JWT itself (forwardToken): it passes it on, and the demo shows it.
  const jwtFor = (role: BankRole): Record<string, unknown> => ({ jwt: [{ name: 'bank', issuer: s.issuer, discovery: true, audiences: [AUD[role]] }], forwardToken: true });
  const scopeHas = (scope: string): Record<string, string> => ({ claim: 'scope', contains: scope });
  return {
    edge: {
      ...base('edge', { name: 'customers-via-the-ingress', from: [{ id: o.ingressId, claims: [scopeHas('accounts:read')] }], to: [{ pathPrefixes: ['/accounts'], methods: ['GET'] }] }),
      auth: {
        introspection: {
          name: 'bank',
          endpoint: s.introspectionEndpoint,
          issuer: s.issuer,
          clientAuth,
          // The app never sees the opaque token: it gets a JWT for edge, exchanged for it.
          phantom: true,
          phantomSource: 'token-exchange',
          exchangeEndpoint: s.tokenEndpoint,
          exchangeAudience: AUD.edge,
        },
      },
      outbound: exchangeTo('edge', 'accounts', ACCOUNTS_SCOPE),
    },
    accounts: {
      ...base('accounts', {
        name: 'customer-reads-own-account',
        from: [{ id: ids.edge, claims: [scopeHas('accounts:read')] }],
        to: [{ pathTemplates: ['/accounts/{claims.sub}'], methods: ['GET'] }],
      }),
      auth: jwtFor('accounts'),
      outbound: exchangeTo('accounts', 'payments', PAYMENTS_SCOPE),
    },
    payments: {
      ...base('payments', {
        name: 'accounts-on-behalf-of-the-customer',
        from: [{ id: ids.accounts, claims: [scopeHas('payments:read'), { claim: 'act.sub', equals: ids.accounts }] }],
        to: [{ pathTemplates: ['/payments/{claims.sub}'], methods: ['GET'] }],
      }),
      auth: jwtFor('payments'),
    },
  };
}

function hopPorts(p: readonly number[]): HopPorts {
  const [app = 0, inbound = 0, outbound = 0, admin = 0] = p;
  return { app, inbound, outbound, admin };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What the edge app's answer says the next hop answered (a sidecar's refusal text), for a check line. */
function downstreamText(r: HttpResult): string {
  try {
    const body = JSON.parse(r.body) as { downstream?: unknown };
    const d = body.downstream;
    return typeof d === 'string' ? d : JSON.stringify(d);
  } catch {
    return r.body.trim();
  }
}
