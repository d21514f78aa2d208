/**
 * A real OAuth 2.0 / OpenID Connect authorization server for tests: the npm
 * package `oidc-provider` run as a child process (examples/authorization-server/
 * server.ts) on 127.0.0.1 with a random port, over HTTP, or HTTPS with mTLS
 * client authentication when `tls` is given.
 *
 * Besides its real endpoints (discovery, JWKS, token, introspection,
 * revocation, RFC 8693 token exchange) the child has a loopback control
 * endpoint; the helpers here use it to mint and revoke tokens, rotate the
 * signing key, read the request log and make the introspection endpoint
 * misbehave. `stop()` kills the child; it is also registered with `cleanup`
 * and with a process exit hook, so a failing test never leaves it running.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent } from 'undici';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { Teardown } from './teardown.ts';
import {
  READY_PREFIX,
  type IntrospectionFault,
  type IssueTokenRequest,
  type LoggedRequest,
  type OidcClientConfig,
  type OidcReady,
  type OidcResourceConfig,
  type OidcServerConfig,
} from '../../examples/authorization-server/config.ts';

export type { IntrospectionFault, IssueTokenRequest, LoggedRequest, OidcClientConfig, OidcResourceConfig } from '../../examples/authorization-server/config.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..');
const nodeBin = join(projectRoot, 'node_modules', '.bin', 'node');
const serverScript = join(import.meta.dirname, '..', '..', 'examples', 'authorization-server', 'server.ts');

/** The RFC 8693 grant type the child registers. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** Resource whose tokens are RFC 9068 JWTs (`aud` = this). */
export const JWT_RESOURCE = 'https://api.example.test';
/** Resource whose tokens are opaque handles with this audience. */
export const OPAQUE_RESOURCE = 'https://opaque.example.test';

/** Something that runs a function after the test: a TestContext, or node:test's `after`. */
/** A sidecar configuration's `clientAuth` with a secret file (RFC 6749 §2.3.1, HTTP Basic). */
export interface SidecarClientAuth {
  readonly method: 'client_secret_basic';
  readonly clientId: string;
  readonly clientSecretFile: string;
}

export interface Cleanup {
  after(fn: () => unknown): void;
}

/** A client the harness registered, with its secret when it has one. */
export interface TestClient {
  readonly id: string;
  readonly secret: string | undefined;
}

/** Options of {@link startOidcProvider}. */
export interface StartOidcProviderOptions {
  readonly cleanup?: Cleanup;
  /**
   * Serve HTTPS with this certificate and ask clients for certificates
   * chaining to `clientCaPem` (RFC 8705). Adds the `sidecar-mtls`
   * (tls_client_auth, SAN URI `mtlsClientSanUri`) and `app-mtls`
   * (certificate-bound tokens) clients.
   */
  readonly tls?: { readonly certPem: string; readonly keyPem: string; readonly caPem: string; readonly clientCaPem: string; readonly mtlsClientSanUri: string };
  /** Extra clients besides the defaults. */
  readonly clients?: readonly OidcClientConfig[];
  /** Default access token lifetime, seconds (default 600). */
  readonly accessTokenTtlSeconds?: number;
  /** A JWK Set (JSON text, e.g. a trust domain's JWT bundle) that verifies RFC 8693 actor tokens. */
  readonly actorJwks?: string;
  /** Resource servers besides {@link JWT_RESOURCE} and {@link OPAQUE_RESOURCE}. */
  readonly resources?: readonly OidcResourceConfig[];
}

/** A running authorization server and its helpers. */
export interface OidcProvider {
  readonly issuer: string;
  readonly discoveryUri: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly revocationEndpoint: string;
  /** The directory holding the config and the child's log (removed by stop()). */
  readonly dir: string;
  readonly process: LoggedProcess;
  /** `sidecar` (client_secret_basic, may introspect and exchange, RFC 9701 responses), `sidecarPost` (client_secret_post), `app` (gets tokens). */
  readonly clients: { readonly sidecar: TestClient; readonly sidecarPost: TestClient; readonly app: TestClient; readonly sidecarMtls: TestClient; readonly appMtls: TestClient };
  /** Writes `secret` to `<dir>/<name>` and returns the path (for clientSecretFile). */
  writeSecretFile(name: string, secret: string): string;
  /** Writes the `sidecar` client's secret to `<dir>/<name>` and returns the sidecar configuration's `clientAuth` for it (HTTP Basic). */
  sidecarClientAuth(name: string): SidecarClientAuth;
  /** Mints a token directly in the provider's store. */
  issueToken(r: IssueTokenRequest): Promise<string>;
  /** Runs the real client credentials grant at the token endpoint; `tlsClient` presents a certificate (HTTPS servers). */
  clientCredentials(client: TestClient, opts?: { readonly scope?: string; readonly resource?: string; readonly tlsClient?: { readonly certPem: string; readonly keyPem: string } }): Promise<{ readonly access_token: string; readonly expires_in: number; readonly scope?: string }>;
  /** Revokes a token (it introspects as inactive afterwards); resolves false when it was unknown. */
  revoke(token: string): Promise<boolean>;
  /** Publishes a new RS256 key and signs with it from now on; resolves its kid. */
  rotateKeys(): Promise<string>;
  /** Every request the authorization server received since the last reset. */
  requests(): Promise<readonly LoggedRequest[]>;
  /** How many requests reached `path` since the last reset. */
  countRequests(path: string): Promise<number>;
  resetRequests(): Promise<void>;
  /** Makes the introspection endpoint misbehave ('none' restores it). */
  setIntrospectionFault(f: IntrospectionFault): Promise<void>;
  /** Cuts (true) or restores (false) connections to discovery and the key set, as an issuer outage looks to a key fetcher. */
  setKeysDown(down: boolean): Promise<void>;
  /** Kills the child and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

const secret = (): string => randomBytes(24).toString('base64url');

function defaultClients(tls: StartOidcProviderOptions['tls']): { list: OidcClientConfig[]; clients: OidcProvider['clients'] } {
  const sidecar: TestClient = { id: 'sidecar', secret: secret() };
  const sidecarPost: TestClient = { id: 'sidecar-post', secret: secret() };
  const app: TestClient = { id: 'app', secret: secret() };
  const sidecarMtls: TestClient = { id: 'sidecar-mtls', secret: undefined };
  const appMtls: TestClient = { id: 'app-mtls', secret: undefined };
  const base = { redirect_uris: [], response_types: [], scope: 'read write admin' };
  const list: OidcClientConfig[] = [
    {
      ...base,
      client_id: sidecar.id,
      client_secret: sidecar.secret!,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT],
      introspection_signed_response_alg: 'RS256',
    },
    { ...base, client_id: sidecarPost.id, client_secret: sidecarPost.secret!, token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT] },
    { ...base, client_id: app.id, client_secret: app.secret!, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'] },
  ];
  if (tls) {
    list.push(
      {
        ...base,
        client_id: sidecarMtls.id,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_uri: tls.mtlsClientSanUri,
        grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT],
        introspection_signed_response_alg: 'RS256',
      },
      {
        ...base,
        client_id: appMtls.id,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_uri: tls.mtlsClientSanUri,
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
      },
    );
  }
  return { list, clients: { sidecar, sidecarPost, app, sidecarMtls, appMtls } };
}

/** Starts the child and waits until both of its servers listen (at most 30 s). */
export async function startOidcProvider(opts: StartOidcProviderOptions = {}): Promise<OidcProvider> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-provider-'));
  const teardown = new Teardown();
  teardown.add('remove oidc-provider dir', () => rmSync(dir, { recursive: true, force: true }));
  const { list, clients } = defaultClients(opts.tls);
  const resources: OidcResourceConfig[] = [
    { identifier: JWT_RESOURCE, scope: 'read write admin', format: 'jwt' },
    { identifier: OPAQUE_RESOURCE, scope: 'read write admin', format: 'opaque' },
    ...(opts.resources ?? []),
  ];
  const config: OidcServerConfig = {
    clients: [...list, ...(opts.clients ?? [])],
    resources,
    ...(opts.tls ? { tls: { certPem: opts.tls.certPem, keyPem: opts.tls.keyPem, clientCaPem: opts.tls.clientCaPem } } : {}),
    ...(opts.accessTokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: opts.accessTokenTtlSeconds } : {}),
    ...(opts.actorJwks !== undefined ? { actorJwks: JSON.parse(opts.actorJwks) as { keys: Record<string, unknown>[] } } : {}),
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const proc = startLogged({ name: 'oidc-provider', argv: [nodeBin, '--disable-warning=ExperimentalWarning', serverScript, configFile], logFile: join(dir, 'server.log'), teardown });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await teardown.run();
  };
  opts.cleanup?.after(stop);
  let ready: OidcReady;
  try {
    const line = await proc.waitForLine(new RegExp(`^${READY_PREFIX}`), 30_000);
    ready = JSON.parse(line.slice(READY_PREFIX.length)) as OidcReady;
  } catch (err) {
    await stop();
    throw err;
  }
  const control = `http://127.0.0.1:${ready.controlPort}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${control}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`oidc-provider control ${method} ${path}: ${res.status} ${json.error ?? ''}`);
    return json;
  };
  const tlsAgents: Agent[] = [];
  teardown.add('close test TLS agents', () => undefined, async () => {
    await Promise.all(tlsAgents.map((a) => a.destroy()));
  });
  const issuer = ready.issuer;
  return {
    issuer,
    discoveryUri: `${issuer}/.well-known/openid-configuration`,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
    dir,
    process: proc,
    clients,
    writeSecretFile(name, value) {
      const p = join(dir, name);
      writeFileSync(p, value, { mode: 0o600 });
      return p;
    },
    sidecarClientAuth(name) {
      const clientSecretFile = join(dir, name);
      writeFileSync(clientSecretFile, clients.sidecar.secret!, { mode: 0o600 });
      return { method: 'client_secret_basic', clientId: clients.sidecar.id, clientSecretFile };
    },
    issueToken: async (r) => (await call<{ token: string }>('POST', '/tokens', r)).token,
    async clientCredentials(client, o = {}) {
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      if (o.scope !== undefined) form.set('scope', o.scope);
      if (o.resource !== undefined) form.set('resource', o.resource);
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (client.secret !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
      else form.set('client_id', client.id);
      let text: string;
      if (opts.tls) {
        const agent = new Agent({ connect: { ca: opts.tls.caPem, ...(o.tlsClient ? { cert: o.tlsClient.certPem, key: o.tlsClient.keyPem } : {}) } });
        tlsAgents.push(agent);
        const res = await agent.request({ origin: new URL(issuer).origin, path: '/token', method: 'POST', headers, body: form.toString() });
        text = await res.body.text();
      } else {
        text = await (await fetch(`${issuer}/token`, { method: 'POST', headers, body: form.toString() })).text();
      }
      const json = JSON.parse(text) as { access_token?: string; expires_in: number; scope?: string; error?: string; error_description?: string };
      if (json.access_token === undefined) throw new Error(`client credentials for ${client.id} failed: ${json.error ?? ''} ${json.error_description ?? ''}`);
      return json as { access_token: string; expires_in: number; scope?: string };
    },
    revoke: async (token) => (await call<{ revoked: boolean }>('POST', '/revoke', { token })).revoked,
    rotateKeys: async () => (await call<{ kid: string }>('POST', '/rotate-keys')).kid,
    requests: async () => (await call<{ requests: LoggedRequest[] }>('GET', '/log')).requests,
    countRequests: async (path) => (await call<{ requests: LoggedRequest[] }>('GET', '/log')).requests.filter((r) => r.path === path).length,
    resetRequests: async () => {
      await call('POST', '/log/reset');
    },
    setKeysDown: async (down) => {
      await call('POST', '/keys-down', { down });
    },
    setIntrospectionFault: async (f) => {
      await call('POST', '/fault', { introspection: f });
    },
    stop,
  };
}
