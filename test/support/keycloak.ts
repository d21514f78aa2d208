/**
 * A real Keycloak (the pinned distribution from install-keycloak.sh) for
 * end-to-end tests of end-user token authentication: one server process on
 * 127.0.0.1:<free port>, an in-memory database, a temp folder for its state,
 * and a realm set up through the real admin REST API with
 *   - a confidential client (client credentials and the password grant)
 *     whose access tokens carry the sidecar's audience and the user's
 *     `customer_id` attribute as a claim,
 *   - a second confidential client whose tokens carry another audience,
 *   - a confidential client named after the sidecar's audience, with no
 *     grant of its own: the resource server that introspects tokens
 *     (Keycloak, since 26.6.2, answers `active: false` to a client that is
 *     not in the token's `aud`),
 *   - a user `alice` with a password and a `customer_id` attribute.
 *
 * The server runs in its own process group (kc.sh forks java); stop()
 * signals the whole group, and the Teardown's exit hook kills it if the test
 * process dies first. Pass the test context (or node:test's `after`) as
 * `cleanup`: Keycloak is stopped and its folder removed even on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logTail } from './logged-process.ts';
import { freePorts } from './sidecar-harness.ts';
import { run } from './spire.ts';
import type { Cleanup } from './dev-agent-harness.ts';
import { Teardown } from './teardown.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..');

/** The Keycloak version install-keycloak.sh pins. */
export const KEYCLOAK_VERSION = '26.7.3';

/** The JDK Keycloak runs on (Java 21+); KEYCLOAK_JAVA_HOME overrides it, as in install-keycloak.sh. */
export function keycloakJavaHome(): string {
  return process.env['KEYCLOAK_JAVA_HOME'] ?? '/usr/lib/jvm/temurin-25-jdk-amd64';
}

/** Options of {@link startKeycloak}. */
export interface KeycloakOptions {
  readonly cleanup: Cleanup;
  /** Realm created for the test; default `sidecar-test`. */
  readonly realm?: string;
  /** Audience the main client's access tokens carry; default `spiffe-sidecar`. */
  readonly audience?: string;
  /** Audience of the other client's tokens; default `other-api`. */
  readonly otherAudience?: string;
  /** Bound on the wait for readiness; default 90 s. */
  readonly readyTimeoutMs?: number;
}

/** A confidential client of the test realm. */
export interface KeycloakClient {
  readonly clientId: string;
  readonly secret: string;
  /** A file (mode 0600) holding exactly the secret, for options that take secrets from files. */
  readonly secretFile: string;
  /** The audience the client's access tokens carry. */
  readonly audience: string;
}

/** The test user. */
export interface KeycloakUser {
  /** Keycloak's user ID: the `sub` of the user's tokens. */
  readonly id: string;
  readonly username: string;
  readonly password: string;
  /** The `customer_id` user attribute, mapped into access tokens as the `customer_id` claim. */
  readonly customerId: string;
}

/** A token endpoint answer (RFC 6749 §5.1). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
}

/** A running Keycloak with the test realm set up. */
export interface Keycloak {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly realm: string;
  /** The realm's issuer (`iss` of its tokens): `<baseUrl>/realms/<realm>`. */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  /** Main client: its tokens carry {@link KeycloakOptions.audience}. */
  readonly client: KeycloakClient;
  /** Other client: its tokens carry only {@link KeycloakOptions.otherAudience}. */
  readonly otherClient: KeycloakClient;
  /** The resource server (client ID = the main audience): introspects tokens, obtains none. */
  readonly resourceServer: KeycloakClient;
  readonly user: KeycloakUser;
  /** The temp folder (log, secrets, transaction store); removed by stop(). */
  readonly dir: string;
  /** Milliseconds from spawning kc.sh to the first 200 from /health/ready. */
  readonly startupMs: number;
  /** Resident memory of the server's process group right now, in bytes. */
  rssBytes(): number;
  /** Password grant (RFC 6749 §4.3) for the test user through `client` (default: the main client). */
  passwordGrant(client?: KeycloakClient, scope?: string): Promise<TokenResponse>;
  /** Client credentials grant (RFC 6749 §4.4). */
  clientCredentialsGrant(client?: KeycloakClient): Promise<TokenResponse>;
  /** Calls the admin REST API under `/admin/realms/<realm>`; returns the parsed JSON body, or the Location header for a 201. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  /**
   * Adds a generated RS256 key provider with `priority` to the realm (key
   * rotation: the highest-priority active key signs new tokens) and
   * returns the new key's `kid`.
   */
  rotateSigningKey(priority: number): Promise<string>;
  /** The `kid` of the key that signs the realm's RS256 tokens now. */
  activeSigningKid(): Promise<string>;
  /** The last lines of the server log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the server (process group) and removes {@link dir}. Idempotent. */
  stop(): Promise<void>;
}

/** Runs install-keycloak.sh (download and build once) and returns the Keycloak home folder. */
export async function installKeycloak(): Promise<string> {
  const res = await run(join(projectRoot, 'test', 'support', 'install-keycloak.sh'), [], { cwd: projectRoot, timeoutMs: 15 * 60_000 });
  const home = res.stdout.trim().split('\n').pop() ?? '';
  if (res.code !== 0 || home === '') {
    throw new Error(`install-keycloak.sh failed (exit ${res.code ?? res.signal}):\n${res.stderr.trim()}`);
  }
  return home;
}

/** Sum of VmRSS over every process whose process group is `pgid`, in bytes. */
export function processGroupRss(pgid: number): number {
  let kib = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // the process ended while we looked
    }
  }
  return kib * 1024;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`, then waits (bounded) until no member is left. */
async function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  const hardDeadline = Date.now() + 5_000;
  while (groupAlive(pgid) && Date.now() < hardDeadline) await sleep(50);
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

/** Starts Keycloak, waits for readiness, and sets up the test realm. */
export async function startKeycloak(opts: KeycloakOptions): Promise<Keycloak> {
  // KEYCLOAK_HOME runs another prebuilt image (e.g. one built with --features=spiffe) instead of the pinned one.
  const home = process.env['KEYCLOAK_HOME'] ?? (await installKeycloak());
  const javaHome = keycloakJavaHome();
  const realm = opts.realm ?? 'sidecar-test';
  const teardown = new Teardown();
  opts.cleanup.after(() => teardown.run());

  const dir = mkdtempSync(join(tmpdir(), 'keycloak-'));
  teardown.add('remove keycloak folder', () => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'keycloak.log');
  const [port] = await freePorts(1);
  const baseUrl = `http://127.0.0.1:${port}`;
  const adminUser = 'bootstrap-admin';
  const adminPassword = secret();

  // Runtime options only: the build options are baked into the image by
  // install-keycloak.sh, and `--optimized` makes Keycloak refuse to re-build.
  const args = [
    'start',
    '--optimized',
    '--http-enabled=true',
    '--http-host=127.0.0.1',
    `--http-port=${port}`,
    // Issuer and endpoint URLs follow the request's Host (127.0.0.1:<port>).
    '--hostname-strict=false',
    '--cache=local',
    '--log-level=info',
    // Narayana's transaction store defaults to <home>/data, shared by every run; keep it in this run's folder.
    `-Dquarkus.transaction-manager.object-store.directory=${join(dir, 'transactions')}`,
  ];
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  const spawnedAt = Date.now();
  try {
    child = spawn(join(home, 'bin', 'kc.sh'), args, {
      cwd: dir,
      // Its own process group, so stop() reaches java as well as kc.sh.
      detached: true,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        JAVA_HOME: javaHome,
        KC_BOOTSTRAP_ADMIN_USERNAME: adminUser,
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        // C1 only: start-up is mostly class loading and one-off code, where
        // the optimising compiler costs CPU it never pays back in a test
        // (measured here: 25 instead of 40 CPU seconds to ready).
        JAVA_OPTS_APPEND: '-XX:TieredStopAtLevel=1',
      },
    });
  } finally {
    closeSync(fd);
  }
  child.on('error', () => {}); // reported through the readiness wait
  teardown.add(
    'stop keycloak',
    () => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    },
    () => stopGroup(child, 15_000),
  );
  const exited = once(child, 'exit').catch(() => undefined);

  const tail = (lines = 40): string => logTail(logFile, lines);
  try {
    await waitReady(baseUrl, child, exited, opts.readyTimeoutMs ?? 90_000, tail);
  } catch (err) {
    await teardown.run();
    throw err;
  }
  const startupMs = Date.now() - spawnedAt;

  const http = new KeycloakHttp(baseUrl, adminUser, adminPassword);
  try {
    const setup = await setUpRealm(http, realm, dir, opts);
    const issuer = `${baseUrl}/realms/${realm}`;
    const tokenEndpoint = `${issuer}/protocol/openid-connect/token`;
    const grant = async (client: KeycloakClient, form: Record<string, string>): Promise<TokenResponse> =>
      http.token(tokenEndpoint, client, form);
    const kc: Keycloak = {
      baseUrl,
      realm,
      issuer,
      tokenEndpoint,
      introspectionEndpoint: `${tokenEndpoint}/introspect`,
      client: setup.client,
      otherClient: setup.otherClient,
      resourceServer: setup.resourceServer,
      user: setup.user,
      dir,
      startupMs,
      rssBytes: () => (child.pid === undefined ? 0 : processGroupRss(child.pid)),
      passwordGrant: (client = setup.client, scope = 'openid profile email') =>
        grant(client, { grant_type: 'password', username: setup.user.username, password: setup.user.password, scope }),
      clientCredentialsGrant: (client = setup.client) => grant(client, { grant_type: 'client_credentials' }),
      admin: (method, path, body) => http.admin(method, `/admin/realms/${realm}${path}`, body),
      async rotateSigningKey(priority) {
        const before = await keysByKid(http, realm);
        const realmRep = (await http.admin('GET', `/admin/realms/${realm}`)) as { id: string };
        await http.admin('POST', `/admin/realms/${realm}/components`, {
          name: `rsa-rotated-${priority}`,
          providerId: 'rsa-generated',
          providerType: 'org.keycloak.keys.KeyProvider',
          parentId: realmRep.id,
          config: { priority: [String(priority)], keySize: ['2048'], algorithm: ['RS256'], active: ['true'], enabled: ['true'] },
        });
        const added = [...(await keysByKid(http, realm))].filter((kid) => !before.has(kid));
        if (added.length !== 1) throw new Error(`keycloak: expected one new key after rotation, found ${added.length}`);
        return added[0]!;
      },
      async activeSigningKid() {
        const keys = (await http.admin('GET', `/admin/realms/${realm}/keys`)) as { active?: Record<string, string> };
        const kid = keys.active?.['RS256'];
        if (kid === undefined) throw new Error('keycloak: the realm has no active RS256 key');
        return kid;
      },
      logTail: tail,
      stop: () => teardown.run(),
    };
    return kc;
  } catch (err) {
    const logs = tail();
    await teardown.run();
    throw new Error(`keycloak: realm set-up failed: ${err instanceof Error ? err.message : String(err)}\n--- keycloak log ---\n${logs}`, { cause: err });
  }
}

/** Polls /health/ready every 500 ms until it answers 200; fails early when the server exits. */
async function waitReady(baseUrl: string, child: ChildProcess, exited: Promise<unknown>, timeoutMs: number, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`keycloak exited (${child.exitCode ?? child.signalCode}) before becoming ready:\n${tail()}`);
    try {
      const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(`keycloak not ready after ${timeoutMs} ms:\n${tail()}`);
}

async function keysByKid(http: KeycloakHttp, realm: string): Promise<Set<string>> {
  const keys = (await http.admin('GET', `/admin/realms/${realm}/keys`)) as { keys?: { kid?: string; algorithm?: string }[] };
  return new Set((keys.keys ?? []).filter((k) => k.algorithm === 'RS256' && k.kid !== undefined).map((k) => k.kid!));
}

/** The admin REST API and token endpoint calls, with the bootstrap admin's token (renewed before it expires). */
class KeycloakHttp {
  readonly #baseUrl: string;
  readonly #user: string;
  readonly #password: string;
  #token: { value: string; expiresAt: number } | undefined;

  constructor(baseUrl: string, user: string, password: string) {
    this.#baseUrl = baseUrl;
    this.#user = user;
    this.#password = password;
  }

  async #adminToken(): Promise<string> {
    if (this.#token !== undefined && Date.now() < this.#token.expiresAt) return this.#token.value;
    const res = await fetch(`${this.#baseUrl}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: this.#user, password: this.#password }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (res.status !== 200 || body.access_token === undefined) throw new Error(`admin login answered ${res.status} ${body.error ?? ''}`);
    // Renew 10 s early so a call never carries a token about to expire.
    this.#token = { value: body.access_token, expiresAt: Date.now() + ((body.expires_in ?? 60) - 10) * 1000 };
    return body.access_token;
  }

  async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const token = await this.#adminToken();
    const res = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`admin ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    if (res.status === 201) return res.headers.get('location') ?? '';
    return text === '' ? undefined : JSON.parse(text);
  }

  /** Token endpoint call with client_secret_basic (RFC 6749 §2.3.1). */
  async token(endpoint: string, client: KeycloakClient, form: Record<string, string>): Promise<TokenResponse> {
    const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64');
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
    if (res.status !== 200) throw new Error(`keycloak: token endpoint answered ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
    return body;
  }
}

/** Protocol mapper: a fixed extra audience in access tokens (and introspection answers). */
function audienceMapper(audience: string): unknown {
  return {
    name: `audience-${audience}`,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    config: {
      'included.custom.audience': audience,
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
    },
  };
}

/** Protocol mapper: the user attribute `customer_id` as a string claim of the same name. */
const customerIdMapper = {
  name: 'customer-id',
  protocol: 'openid-connect',
  protocolMapper: 'oidc-usermodel-attribute-mapper',
  config: {
    'user.attribute': 'customer_id',
    'claim.name': 'customer_id',
    'jsonType.label': 'String',
    'access.token.claim': 'true',
    'id.token.claim': 'false',
    'userinfo.token.claim': 'false',
    'introspection.token.claim': 'true',
  },
};

/** An admin call relative to the test realm (`/clients` is `/admin/realms/<realm>/clients`). */
type RealmAdmin = (method: string, path: string, body?: unknown) => Promise<unknown>;

/**
 * Registers a confidential client that authenticates with a generated
 * secret (RFC 6749 §2.3.1) and has no browser flow, and writes the secret
 * to `<dir>/<clientId>.secret` (mode 0600) for the sidecar to read. No
 * grant of its own unless `extra` turns one on.
 */
async function createSecretClient(admin: RealmAdmin, dir: string, clientId: string, audience: string, extra: Record<string, unknown>): Promise<KeycloakClient> {
  const value = secret();
  await admin('POST', '/clients', {
    clientId,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret: value,
    standardFlowEnabled: false,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    ...extra,
  });
  const secretFile = join(dir, `${clientId}.secret`);
  writeFileSync(secretFile, value, { mode: 0o600 });
  return { clientId, secret: value, secretFile, audience };
}

async function setUpRealm(
  http: KeycloakHttp,
  realm: string,
  dir: string,
  opts: KeycloakOptions,
): Promise<{ client: KeycloakClient; otherClient: KeycloakClient; resourceServer: KeycloakClient; user: KeycloakUser }> {
  await http.admin('POST', '/admin/realms', { realm, enabled: true });
  const base = `/admin/realms/${realm}`;
  // Keycloak 26 drops user attributes its user profile does not declare;
  // let it keep `customer_id` without declaring a profile field for it.
  const profile = (await http.admin('GET', `${base}/users/profile`)) as Record<string, unknown>;
  await http.admin('PUT', `${base}/users/profile`, { ...profile, unmanagedAttributePolicy: 'ENABLED' });

  const realmAdmin: RealmAdmin = (method, path, body) => http.admin(method, `${base}${path}`, body);
  const makeClient = (clientId: string, audience: string, grants: boolean): Promise<KeycloakClient> =>
    createSecretClient(realmAdmin, dir, clientId, audience, {
      directAccessGrantsEnabled: grants,
      serviceAccountsEnabled: grants,
      protocolMappers: grants ? [audienceMapper(audience), customerIdMapper] : [],
    });
  const audience = opts.audience ?? 'spiffe-sidecar';
  const client = await makeClient('orders-web', audience, true);
  const otherClient = await makeClient('reports-job', opts.otherAudience ?? 'other-api', true);
  const resourceServer = await makeClient(audience, audience, false);

  const username = 'alice';
  const password = secret();
  const customerId = 'cust-1042';
  const location = await http.admin('POST', `${base}/users`, {
    username,
    enabled: true,
    // A complete profile: Keycloak refuses the password grant while required profile fields are missing.
    email: 'alice@example.org',
    emailVerified: true,
    firstName: 'Alice',
    lastName: 'Example',
    attributes: { customer_id: [customerId] },
    credentials: [{ type: 'password', value: password, temporary: false }],
  });
  const id = String(location).split('/').pop() ?? '';
  if (id === '') throw new Error('keycloak: user creation returned no Location');
  return { client, otherClient, resourceServer, user: { id, username, password, customerId } };
}

/** The SPIFFE trust relationship set up by {@link setUpTokenExchange} (Keycloak's preview `spiffe` identity provider). */
export interface KeycloakSpiffeOptions {
  /** `spiffe://<trust domain>`, as Keycloak's SPIFFE identity provider takes it. */
  readonly trustDomain: string;
  /** URL of the trust domain's SPIFFE bundle endpoint (JWKS with `use: jwt-svid` keys). */
  readonly bundleEndpoint: string;
  /** The SPIFFE ID (JWT-SVID `sub`) that authenticates as {@link KeycloakTokenExchange.spiffeRequester}. */
  readonly subject: string;
  /** Longest lifetime Keycloak accepts for the JWT-SVID, seconds (Keycloak's default is 300). */
  readonly maxAssertionLifetimeSeconds?: number;
}

/** Clients for RFC 8693 standard token exchange (Keycloak's V2, on by default since 26.2). */
export interface KeycloakTokenExchange {
  /** Where the user logs in (password grant); its tokens name {@link requester} (and the SPIFFE requester) in `aud`. */
  readonly initialClient: KeycloakClient;
  /** The confidential client that exchanges (`standard.token.exchange.enabled`), with a client secret. */
  readonly requester: KeycloakClient;
  /** The exchange's target: a client with no grant of its own, the `audience` asked for. */
  readonly target: KeycloakClient;
  /** A requester that authenticates with a JWT-SVID (`federated-jwt` client authentication); absent when not asked for. */
  readonly spiffeRequester?: { readonly clientId: string };
  /** Why the SPIFFE requester could not be set up (Keycloak's answer), when it was asked for and failed. */
  readonly spiffeProblem?: string;
}

/**
 * Adds the clients of an RFC 8693 exchange to the test realm. Keycloak's
 * standard token exchange lets a client exchange a token only when (1) the
 * client has `standard.token.exchange.enabled`, (2) the subject token names
 * the client in `aud`, and (3) the requested audience is a client the
 * requester's own tokens could reach (here an audience mapper on it).
 * With `spiffe`, also a SPIFFE identity provider and a client whose
 * credential is a JWT-SVID from that trust domain; when Keycloak refuses
 * that set-up (the `spiffe` feature is a preview in 26.7.3, off unless the
 * server was built with `--features=spiffe`), `spiffeProblem` says why.
 */
export async function setUpTokenExchange(kc: Keycloak, spiffe?: KeycloakSpiffeOptions): Promise<KeycloakTokenExchange> {
  const confidential = (clientId: string, extra: Record<string, unknown>): Promise<KeycloakClient> =>
    createSecretClient((method, path, body) => kc.admin(method, path, body), kc.dir, clientId, clientId, extra);
  const target = await confidential('payments-api', {});
  const requester = await confidential('frontend-sidecar', {
    attributes: { 'standard.token.exchange.enabled': 'true' },
    protocolMappers: [audienceMapper(target.clientId)],
  });
  let spiffeRequester: { clientId: string } | undefined;
  let spiffeProblem: string | undefined;
  if (spiffe !== undefined) {
    const alias = 'spiffe-trust-domain';
    try {
      await kc.admin('POST', '/identity-provider/instances', {
        alias,
        providerId: 'spiffe',
        enabled: true,
        config: {
          trustDomain: spiffe.trustDomain,
          bundleEndpoint: spiffe.bundleEndpoint,
          ...(spiffe.maxAssertionLifetimeSeconds !== undefined ? { fedClientAssertionMaxExp: String(spiffe.maxAssertionLifetimeSeconds) } : {}),
        },
      });
      const clientId = 'frontend-sidecar-spiffe';
      await kc.admin('POST', '/clients', {
        clientId,
        enabled: true,
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'federated-jwt',
        standardFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: false,
        attributes: { 'standard.token.exchange.enabled': 'true', 'jwt.credential.issuer': alias, 'jwt.credential.sub': spiffe.subject },
        protocolMappers: [audienceMapper(target.clientId)],
      });
      spiffeRequester = { clientId };
    } catch (err) {
      spiffeProblem = err instanceof Error ? err.message : String(err);
    }
  }
  const initialClient = await confidential('bank-web', {
    directAccessGrantsEnabled: true,
    protocolMappers: [
      audienceMapper(requester.clientId),
      ...(spiffeRequester !== undefined ? [{ ...(audienceMapper(spiffeRequester.clientId) as object) }] : []),
      customerIdMapper,
    ],
  });
  return {
    initialClient,
    requester,
    target,
    ...(spiffeRequester !== undefined ? { spiffeRequester } : {}),
    ...(spiffeProblem !== undefined ? { spiffeProblem } : {}),
  };
}
