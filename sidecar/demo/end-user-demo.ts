import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../core/index.ts';
import { AuthorizationServer, authorizationServerUnavailable, type AuthorizationServerClient, type AuthorizationServerResource, type MintTokenRequest } from './authorization-server.ts';
import { callThroughFrontend, type BackendEcho, type DemoApp, type FrontendAnswer } from './demo-apps.ts';
import type { DemoReport } from './demo-report.ts';

/** The demo's end users and the customer id each token carries. */
const USERS = { alice: '1001', bob: '1002' } as const;
/** The OAuth client the users' tokens are issued to (the edge's client). */
const WEB_APP = 'web-app';
/** The client the backend's sidecar authenticates as at the introspection endpoint. */
const SIDECAR_CLIENT = 'backend-sidecar';
/** RFC 8707 resources: JWT access tokens (RFC 9068) for the backend, opaque ones for the edge. */
const JWT_AUDIENCE = 'https://backend.example.org';
const OPAQUE_AUDIENCE = 'https://edge.example.org';
const SCOPE = 'accounts:read';
const ACCOUNT_TEMPLATE = '/accounts/{claims.customer_id}';

/** Options of {@link EndUserDemo.prepare}. */
export interface EndUserDemoOptions {
  readonly execPath: string;
  /** The checkout's root (examples/ and node_modules/). */
  readonly projectRoot: string;
  /** The demo's temp directory: the server's config and log, the introspection secret. */
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** More for the same server: another part's clients and resources, and the actor key set. */
  readonly serverAdditions?: AuthorizationServerAdditions;
}

/** Clients, resources and an actor key set another part of the demo registers at the authorization server. */
export interface AuthorizationServerAdditions {
  readonly clients: readonly AuthorizationServerClient[];
  readonly resources: readonly AuthorizationServerResource[];
  /** A JWK Set (JSON text) verifying RFC 8693 actor tokens. */
  readonly actorJwks?: string;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/**
 * The user side of the demo: an authorization server (oidc-provider) and
 * the backend sidecar's part of it, i.e. its `auth:` and `headers:`
 * sections (opaque tokens by RFC 7662 introspection with a client secret
 * read from a file, JWTs with keys found by OIDC discovery) and a policy v2
 * rule binding `/accounts/{id}` to the user's `customer_id` claim. Then the
 * checks: alice reaches her own account through the edge, the backend app
 * sees her verified claims and never her token, and every wrong token is
 * refused before it.
 */
export class EndUserDemo {
  readonly #server: AuthorizationServer;
  readonly #secretFile: string;

  private constructor(server: AuthorizationServer, secretFile: string) {
    this.#server = server;
    this.#secretFile = secretFile;
  }

  /**
   * Starts the authorization server, or says in one line why the user part
   * is skipped (not available here) or failed to start (a failed check).
   */
  static async prepare(o: EndUserDemoOptions, report: DemoReport): Promise<EndUserDemo | undefined> {
    const missing = authorizationServerUnavailable(o.projectRoot);
    if (missing !== undefined) {
      report.say(`  end users: skipped, ${missing}`);
      return undefined;
    }
    const sidecarSecret = randomBytes(24).toString('base64url');
    const secretFile = join(o.dir, 'introspection-client.secret');
    writeFileSync(secretFile, sidecarSecret, { mode: 0o600 });
    const client = { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scope: SCOPE } as const;
    const more = o.serverAdditions;
    try {
      const server = await AuthorizationServer.start({
        execPath: o.execPath,
        projectRoot: o.projectRoot,
        dir: o.dir,
        env: o.env,
        clients: [
          { ...client, client_id: SIDECAR_CLIENT, client_secret: sidecarSecret },
          { ...client, client_id: WEB_APP, client_secret: randomBytes(24).toString('base64url') },
          ...(more?.clients ?? []),
        ],
        resources: [
          { identifier: JWT_AUDIENCE, scope: SCOPE, format: 'jwt' },
          { identifier: OPAQUE_AUDIENCE, scope: SCOPE, format: 'opaque' },
          ...(more?.resources ?? []),
        ],
        ...(more?.actorJwks !== undefined ? { actorJwks: more.actorJwks } : {}),
      });
      return new EndUserDemo(server, secretFile);
    } catch (err) {
      report.check(false, 'the authorization server starts (the end-user part is skipped)', describeError(err));
      return undefined;
    }
  }

  /** The authorization server's issuer. */
  get issuer(): string {
    return this.#server.issuer;
  }

  /** The running authorization server, for other parts of the demo (the bank chain). */
  get authorizationServer(): AuthorizationServer {
    return this.#server;
  }

  /** Lines for the demo's overview. */
  describe(): string[] {
    return [
      `  authorization server (oidc-provider): issuer ${this.issuer}; users alice (customer ${USERS.alice}) and bob (customer ${USERS.bob})`,
      `  backend sidecar verifies tokens: opaque ones by introspection (client ${SIDECAR_CLIENT}, secret in ${this.#secretFile}), JWTs by discovery`,
    ];
  }

  /** The `auth:` and `headers:` sections of the backend sidecar's configuration. */
  backendConfig(): Record<string, unknown> {
    return {
      auth: {
        // clockSkew 0s: the demo's expired token is refused as soon as it expires.
        jwt: [{ name: 'demo-jwt', issuer: this.issuer, discovery: true, audiences: [JWT_AUDIENCE], requireTyp: 'at+jwt', clockSkew: '0s' }],
        introspection: {
          name: 'demo-opaque',
          endpoint: this.#server.introspectionEndpoint,
          issuer: this.issuer,
          audiences: [OPAQUE_AUDIENCE],
          clientAuth: { method: 'client_secret_basic', clientId: SIDECAR_CLIENT, clientSecretFile: this.#secretFile },
        },
      },
      headers: { claimHeaders: [{ claim: 'customer_id', header: 'x-customer-id' }] },
    };
  }

  /** The backend's policy rule: `callerId` reads `/accounts/<id>` only for a user of this issuer whose `customer_id` is `<id>`. */
  policyRule(callerId: string): Record<string, unknown> {
    return {
      name: 'customers-read-own-account',
      from: [{ id: callerId, principals: [`${this.issuer}/*`] }],
      to: [{ pathTemplates: [ACCOUNT_TEMPLATE], methods: ['GET'] }],
    };
  }

  /** One line for the policy summary. */
  policySummary(): string {
    return `${ACCOUNT_TEMPLATE} also needs a user of ${this.issuer}`;
  }

  /** Runs the user-side checks through the frontend app (the edge) on `frontendPort`. */
  async run(report: DemoReport, frontendPort: number, backendApp: DemoApp): Promise<void> {
    report.section(`end users: a client with alice's token -> frontend app (the edge; passes Authorization on) -> sidecars -> backend app`);
    const own = `/accounts/${USERS.alice}`;
    const call = (path: string, headers: Record<string, string> = {}): Promise<FrontendAnswer> => callThroughFrontend(frontendPort, `/call?path=${path}`, headers);
    const opaque = await this.#mint({ format: 'opaque', subject: 'alice', audience: OPAQUE_AUDIENCE, customerId: USERS.alice });
    const r1 = await call(own, bearer(opaque));
    if (report.check(r1.backendStatus === 200, `alice's opaque token (introspected) reads ${own}: ${r1.backendStatus}`, JSON.stringify(r1))) this.#checkEcho(report, r1.backend as BackendEcho);
    const jwt = await this.#mint({ format: 'jwt', subject: 'alice', audience: JWT_AUDIENCE, customerId: USERS.alice });
    const r2 = await call(own, bearer(jwt));
    report.check(r2.backendStatus === 200, `alice's JWT (RFC 9068, keys by OIDC discovery) reads ${own}: ${r2.backendStatus}`, JSON.stringify(r2));

    const seen = backendApp.requests();
    const bobs = `/accounts/${USERS.bob}`;
    refused(report, await call(bobs, bearer(opaque)), 403, `alice on bob's account ${bobs}`);
    refused(report, await call(bobs, bearer(forged(jwt, USERS.bob))), 401, `a forged token (alice's JWT with customer_id ${USERS.bob}, signature kept) on ${bobs}`);
    const shortLived = await this.#mint({ format: 'jwt', subject: 'alice', audience: JWT_AUDIENCE, customerId: USERS.alice, expiresInSeconds: 1 });
    await sleep(untilExpired(shortLived));
    refused(report, await call(own, bearer(shortLived)), 401, `an expired token (a JWT that lived 1 s; clockSkew 0s) on ${own}`);
    refused(report, await call(own), 401, `no token on ${own}`);
    report.check(backendApp.requests() === seen, 'the backend app never saw the refused requests');
  }

  /** Lines for the demo's "try it" list: one with a token for alice (an hour long). */
  async tryLines(frontendPort: number): Promise<[string, string][]> {
    const token = await this.#mint({ format: 'opaque', subject: 'alice', audience: OPAQUE_AUDIENCE, customerId: USERS.alice, expiresInSeconds: 3600 });
    return [
      [`curl -H 'Authorization: Bearer ${token}' 'http://127.0.0.1:${frontendPort}/call?path=/accounts/${USERS.alice}'`, `as alice (an opaque token for an hour) through the edge: the backend sees her claims, not her token; /accounts/${USERS.bob} is 403`],
      [`curl ${this.issuer}/.well-known/openid-configuration`, 'the authorization server (oidc-provider)'],
    ];
  }

  /** Stops the authorization server. */
  stop(): Promise<void> {
    return this.#server.stop();
  }

  #checkEcho(report: DemoReport, echo: BackendEcho): void {
    const u = echo.user;
    report.check(
      u?.subject === 'alice' && u.clientId === WEB_APP && u.customerId === USERS.alice,
      `backend app saw x-auth-subject: ${u?.subject ?? '(none)'}, x-auth-client-id: ${u?.clientId ?? '(none)'}, x-customer-id: ${u?.customerId ?? '(none)'} (claimHeaders), x-auth-scopes: ${u?.scopes ?? '(none)'}`,
      JSON.stringify(echo),
    );
    const claims = u?.claims ?? null;
    report.check(
      u?.issuer === this.issuer && claims?.['customer_id'] === USERS.alice,
      `backend app saw x-auth-issuer: ${u?.issuer ?? '(none)'} and x-auth-claims (base64url JSON): ${claims ? Object.keys(claims).join(', ') : '(none)'}`,
      JSON.stringify(echo),
    );
    report.check(!echo.authorizationReceived, 'backend app received no Authorization header: the token stopped at its sidecar');
  }

  #mint(r: Omit<MintTokenRequest, 'clientId' | 'scope' | 'claims'> & { readonly customerId: string }): Promise<string> {
    const { customerId, ...rest } = r;
    return this.#server.mintToken({ ...rest, clientId: WEB_APP, scope: SCOPE, claims: { customer_id: customerId } });
  }
}

/** A check that the backend side refused with `status` (and its challenge on a 401). */
function refused(report: DemoReport, r: FrontendAnswer, status: number, what: string): void {
  const body = typeof r.backend === 'string' ? r.backend.trim() : JSON.stringify(r.backend);
  const challenge = r.backendChallenge === null ? '' : `, WWW-Authenticate: ${r.backendChallenge}`;
  report.check(r.backendStatus === status && (status !== 401 || r.backendChallenge !== null), `${what}: ${r.backendStatus} ${body}${challenge}`);
}

/** `jwt` with the payload's customer_id replaced and the original signature kept. */
function forged(jwt: string, customerId: string): string {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify({ ...claims, customer_id: customerId })).toString('base64url')}.${signature}`;
}

/** Milliseconds until `jwt`'s `exp` has passed (plus a margin), at most 3 s. */
function untilExpired(jwt: string): number {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
  const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Date.now() + 1_000;
  return Math.min(3_000, Math.max(0, exp - Date.now() + 250));
}
